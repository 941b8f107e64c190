"""Help-center business rules: articles with versions and files, drafts from requests, suggestion
events and the deflection count. Views and the CLI call these; they flush, the caller's unit of work
commits (``app.unit_of_work``)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.db_types import utcnow
from app.extensions import db
from app.helpcenter.models import (
    DRAFT,
    PUBLISHED,
    VISIBILITIES,
    Article,
    ArticleFile,
    ArticleOrganization,
    ArticleVersion,
    SuggestionEvent,
)
from app.helpcenter.search import index_article
from app.helpcenter.text import fold

MAX_FILE_BYTES = 10 * 1024 * 1024
# Deflection: a customer who opened a suggested article and raised no request within this time.
DEFLECTION_WINDOW = timedelta(minutes=30)


class ArticleError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")[:100] or "article"


def _unique_slug(wanted: str, article_id: int | None = None) -> str:
    base, n, slug = wanted, 1, wanted
    while db.session.execute(select(Article.id).where(Article.slug == slug, Article.id != (article_id or 0))).first():
        n += 1
        slug = f"{base}-{n}"
    return slug


@dataclass
class ArticleData:
    title: str
    body: str = ""
    language: str = "en"
    category: str = ""
    slug: str = ""
    portal_id: int | None = None
    visibility: str = "public"
    organization_ids: list[int] = field(default_factory=list)


def _validate(data: ArticleData, tenant) -> None:
    if not data.title.strip():
        raise ArticleError(_("Please give the article a title."), "title")
    if data.language not in tenant.locales:
        raise ArticleError(_("Choose one of the portal's languages."), "language")
    if data.visibility not in VISIBILITIES:
        raise ArticleError(_("Choose who may read the article."), "visibility")
    if data.visibility == "organizations" and not data.organization_ids:
        raise ArticleError(_("Choose at least one organization."), "organizations")
    if data.slug and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", data.slug):
        raise ArticleError(_("The address may contain only lower-case letters, digits and hyphens."), "slug")


def _apply(article: Article, data: ArticleData) -> None:
    article.title, article.body = data.title.strip()[:300], data.body or ""
    article.language, article.category = data.language, (data.category or "").strip()[:120]
    article.portal_id, article.visibility = data.portal_id, data.visibility
    wanted = {i for i in data.organization_ids} if data.visibility == "organizations" else set()
    article.organizations[:] = [link for link in article.organizations if link.organization_id in wanted]
    present = {link.organization_id for link in article.organizations}
    for org_id in sorted(wanted - present):
        article.organizations.append(ArticleOrganization(organization_id=org_id))


def create_article(tenant, author, data: ArticleData, *, publish: bool = False, source_ticket_id=None) -> Article:
    _validate(data, tenant)
    article = Article(
        slug=_unique_slug(data.slug or slugify(data.title)),
        status=PUBLISHED if publish else DRAFT,
        created_by_id=author.id if author else None,
        updated_by_id=author.id if author else None,
        source_ticket_id=source_ticket_id,
        published_at=utcnow() if publish else None,
        version=1,
    )
    _apply(article, data)
    db.session.add(article)
    db.session.flush()
    index_article(article)
    return article


def update_article(tenant, article: Article, author, data: ArticleData) -> Article:
    """Save a new text; the previous one is kept as a version when title, body or category change."""
    _validate(data, tenant)
    if (article.title, article.body, article.category) != (
        data.title.strip()[:300],
        data.body or "",
        (data.category or "").strip()[:120],
    ):
        db.session.add(
            ArticleVersion(
                article_id=article.id,
                number=article.version,
                title=article.title,
                body=article.body,
                category=article.category,
                saved_by_id=article.updated_by_id,
                saved_at=article.updated_at,
            )
        )
        article.version += 1
    if data.slug and data.slug != article.slug:
        article.slug = _unique_slug(data.slug, article.id)
    _apply(article, data)
    article.updated_by_id, article.updated_at = (author.id if author else None), utcnow()
    db.session.flush()
    index_article(article)
    return article


def set_published(article: Article, author, published: bool) -> Article:
    article.status = PUBLISHED if published else DRAFT
    if published and article.published_at is None:
        article.published_at = utcnow()
    article.updated_by_id = author.id if author else None
    index_article(article)
    return article


def versions(article: Article) -> list[ArticleVersion]:
    return db.session.scalars(
        select(ArticleVersion).where(ArticleVersion.article_id == article.id).order_by(ArticleVersion.number.desc())
    ).all()


def restore_version(tenant, article: Article, number: int, author) -> Article:
    """Make an earlier text current again (the text it replaces is kept as a version too)."""
    version = db.session.execute(
        select(ArticleVersion).where(ArticleVersion.article_id == article.id, ArticleVersion.number == number)
    ).scalar_one_or_none()
    if version is None:
        raise ArticleError(_("That version does not exist."))
    data = article_data(article)
    data.title, data.body, data.category = version.title, version.body, version.category
    return update_article(tenant, article, author, data)


def article_data(article: Article) -> ArticleData:
    return ArticleData(
        title=article.title,
        body=article.body,
        language=article.language,
        category=article.category,
        slug=article.slug,
        portal_id=article.portal_id,
        visibility=article.visibility,
        organization_ids=[link.organization_id for link in article.organizations],
    )


def add_files(article: Article, uploads, author) -> list[ArticleFile]:
    """Store files through the storage layer; nothing is recorded if the storage refuses one.

    As for request attachments, the name is normalised (``safe_filename``) and the type read from
    the bytes (``sniff_content_type``): an "image" that is really HTML or SVG is never served inline."""
    from app.storage import get_storage, make_key
    from app.storage.files import SNIFF_BYTES, safe_filename, sniff_content_type

    stored, storage = [], get_storage()
    try:
        for upload in uploads:
            if not upload or not upload.filename:
                continue
            name = safe_filename(upload.filename)
            data = upload.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise ArticleError(_("%(name)s is larger than 10 MB.", name=name), "files")
            import io

            content_type = sniff_content_type(data[:SNIFF_BYTES], name)
            key = make_key(article.tenant_id, "help", article.id)
            storage.put(key, io.BytesIO(data), content_type)
            stored.append(
                ArticleFile(
                    article_id=article.id,
                    storage_key=key,
                    filename=name[:255],
                    content_type=content_type[:127],
                    size=len(data),
                    uploaded_by_id=author.id if author else None,
                )
            )
    except Exception:
        for f in stored:
            storage.delete(f.storage_key)
        raise
    db.session.add_all(stored)
    db.session.flush()
    return stored


def files_of(article: Article) -> list[ArticleFile]:
    return db.session.scalars(
        select(ArticleFile).where(ArticleFile.article_id == article.id).order_by(ArticleFile.id)
    ).all()


def draft_from_ticket(tenant, ticket, author) -> Article:
    """An article draft from a resolved request: its summary as the title, its description and the
    last public answer of support as the body, in the tenant's default language, for staff only."""
    from app.accounts.models import User
    from app.tickets.models import Comment

    if ticket.status.category not in ("resolved", "closed"):
        raise ArticleError(_("Only a resolved request can become an article."))
    answer = db.session.execute(
        select(Comment.body)
        .join(User, Comment.author_id == User.id)
        .where(Comment.ticket_id == ticket.id, Comment.is_internal.is_(False), User.role.in_(("agent", "admin")))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(1)
    ).scalar()
    body = (ticket.description or "").strip()
    if answer:
        body = f"{body}\n\n## {_('Solution')}\n\n{answer.strip()}" if body else answer.strip()
    return create_article(
        tenant,
        author,
        ArticleData(
            title=ticket.summary,
            body=body,
            language=tenant.default_locale,
            visibility="customers",
            portal_id=ticket.portal_id,
        ),
        source_ticket_id=ticket.id,
    )


# --- suggestions and deflection ---------------------------------------------------------------


def visit_id(session_store: dict, now: datetime | None = None) -> str:
    """The person's current suggestion visit: kept in their session, renewed after 30 idle minutes."""
    now = now or utcnow()
    current = session_store.get("help_visit") or {}
    last = current.get("at")
    if not current.get("id") or not last or now.timestamp() - last > DEFLECTION_WINDOW.total_seconds():
        current = {"id": secrets.token_hex(8)}
    current["at"] = now.timestamp()
    session_store["help_visit"] = current
    return current["id"]


def record_suggestions(user, visit: str, article_ids, kind: str) -> None:
    """Record that articles were shown as suggestions (once per visit) or that one was opened."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return
    if kind == "shown":
        known = set(
            db.session.scalars(
                select(SuggestionEvent.article_id).where(
                    SuggestionEvent.visit == visit, SuggestionEvent.kind == "shown", SuggestionEvent.article_id.in_(ids)
                )
            )
        )
        ids = [i for i in ids if i not in known]
    for article_id in ids:
        db.session.add(
            SuggestionEvent(kind=kind, visit=visit, user_id=getattr(user, "id", None), article_id=article_id)
        )


@dataclass
class DeflectionSummary:
    visits_shown: int = 0  # visits in which suggestions were shown
    visits_opened: int = 0  # ... in which a suggested article was opened
    deflected: int = 0  # ... after which no request was raised: the requests saved
    pending: int = 0  # opened less than 30 minutes ago: not decided yet
    by_article: list = field(default_factory=list)  # (article, opened visits, deflected visits)


def deflection_summary(now: datetime | None = None, days: int = 90) -> DeflectionSummary:
    """How many requests the articles saved in the last ``days``.

    A *visit* is one person's suggestion events in one browser session, with no 30-minute gap. A
    visit is **deflected** when a suggested article was opened in it and the person raised no request
    from the first opening until 30 minutes after the visit's last event. Visits whose last event is
    less than 30 minutes old are pending and not counted either way."""
    from app.tickets.models import Ticket

    now = now or utcnow()
    since = now - timedelta(days=days)
    events = (
        db.session.execute(
            select(SuggestionEvent).where(SuggestionEvent.created_at >= since).order_by(SuggestionEvent.created_at)
        )
        .scalars()
        .all()
    )
    visits: dict[str, list] = {}
    for event in events:
        visits.setdefault(event.visit, []).append(event)
    user_ids = {e.user_id for e in events if e.user_id}
    raised: dict[int, list] = {}
    for user_id, created in db.session.execute(
        select(Ticket.created_by_id, Ticket.created_at).where(
            Ticket.created_by_id.in_(user_ids or [0]), Ticket.created_at >= since
        )
    ):
        raised.setdefault(user_id, []).append(created)
    summary = DeflectionSummary()
    per_article: dict[int, list[int]] = {}
    for visit_events in visits.values():
        if any(e.kind == "shown" for e in visit_events):
            summary.visits_shown += 1
        opened = [e for e in visit_events if e.kind == "opened"]
        if not opened:
            continue
        summary.visits_opened += 1
        first, last = opened[0].created_at, visit_events[-1].created_at
        user_id = visit_events[0].user_id
        if any(first <= t <= last + DEFLECTION_WINDOW for t in raised.get(user_id, [])):
            deflected = False
        elif now - last < DEFLECTION_WINDOW:
            summary.pending += 1
            deflected = None
        else:
            summary.deflected += 1
            deflected = True
        for article_id in {e.article_id for e in opened}:
            counts = per_article.setdefault(article_id, [0, 0])
            counts[0] += 1
            counts[1] += 1 if deflected else 0
    articles = {a.id: a for a in db.session.scalars(select(Article).where(Article.id.in_(list(per_article) or [0])))}
    summary.by_article = sorted(
        ((articles[i], o, d) for i, (o, d) in per_article.items() if i in articles),
        key=lambda row: (-row[2], -row[1], row[0].title),
    )
    return summary


def tenant_article_count() -> int:
    return db.session.execute(select(func.count(Article.id))).scalar_one()


def seed_demo_articles(tenant, author, items: list) -> int:
    """Demo articles from ``tenants/<slug>/demo.yaml`` (``articles:``), only for a tenant without any."""
    if not items or tenant_article_count():
        return 0
    from app.catalog.models import Portal

    portals = {p.key: p.id for p in db.session.scalars(select(Portal))}
    for item in items:
        create_article(
            tenant,
            author,
            ArticleData(
                title=item["title"],
                body=item.get("body", ""),
                language=item.get("language", tenant.default_locale),
                category=item.get("category", ""),
                slug=item.get("slug", ""),
                portal_id=portals.get(item.get("portal")),
                visibility=item.get("visibility", "public"),
            ),
            publish=item.get("status", PUBLISHED) == PUBLISHED,
        )
    return len(items)
