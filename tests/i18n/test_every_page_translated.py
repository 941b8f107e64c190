"""Every page and e-mail of every demo tenant, in every language of the tenant, has no English left
over from the catalog and no empty label.

Pages are found by crawling the portal as each demo role (customer, organization admin, agent,
tenant admin) from its home page, following the links it shows; e-mails are the ones a day of
support produces (a request raised on the phone, a reply, a status change, an internal note, an
assignment, a forward, a shared request, a password reset, the satisfaction survey, the automatic
replies to e-mails). A page "has English left over" when a sentence of the catalog whose
translation differs from the English original stands on it in English.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from tests.conftest import DEMO_TENANTS, ROOT, portal_url

ROLES = ("customer", "orgadmin", "agent", "admin")
DEMO_PASSWORD = "demo-password"
PAGES_PER_ROLE = 45
# Links that change something or leave the page's language: never followed by the crawler.
SKIP_PATHS = re.compile(r"/(logout|language|email/|mailgate|static/|.*/(download|original|files?)/)|\.(zip|yaml)$")
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}")


def _catalog_pairs(lang: str) -> list[tuple[str, list[str], str]]:
    """(msgid, its literal English fragments worth looking for, the translation) of every entry
    whose translation differs from the English text."""
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=lang)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        translation = message.string if isinstance(message.string, str) else " ".join(message.string)
        if not translation or translation == msgid:
            continue
        fragments = [f.strip(" .,:;()“”\"'") for f in _PLACEHOLDER.split(msgid)]
        # Short words ("Open", "Status") also occur in tenants' own English texts; whole phrases do not.
        fragments = [f for f in fragments if len(f) >= 14 and " " in f and f not in translation]
        if fragments:
            pairs.append((msgid, fragments, translation))
    return pairs


class _Page(HTMLParser):
    """The text a person reads or hears on a page: visible text and the attributes read aloud."""

    READ_ALOUD = ("placeholder", "title", "aria-label", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.empty_labels: list[str] = []
        self._skip = 0
        self._open: list[tuple[str, dict, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name in self.READ_ALOUD:
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append(attributes["value"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in ("label", "option", "legend", "h1", "h2", "h3", "th", "button"):
            self._open.append((tag, attributes, []))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._skip = max(0, self._skip - 1)
        if self._open and self._open[-1][0] == tag:
            name, attributes, texts = self._open.pop()
            spoken = "".join(texts).strip() or attributes.get("aria-label") or attributes.get("title")
            placeholder_option = name == "option" and attributes.get("value", None) == ""
            if not spoken and not placeholder_option and name != "th":
                self.empty_labels.append(f"<{name} {attributes}>")

    def handle_data(self, data):
        if self._skip:
            return
        self.parts.append(data)
        for _name, _attributes, texts in self._open:
            texts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts))


def leftovers(html: str, pairs) -> tuple[list[str], list[str]]:
    page = _Page()
    page.feed(html)
    text = page.text
    english = [msgid for msgid, fragments, _translation in pairs if any(f in text for f in fragments)]
    return english, page.empty_labels


def _crawl(client, slug: str, limit: int) -> list[str]:
    """Paths reachable from the home page by GET (the role's menus, lists, requests, forms)."""
    host = f"{slug}.portal.test"
    seen, queue, pages = set(), ["/"], []
    per_prefix: dict[str, int] = {}
    while queue and len(pages) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        # A few of each kind of page are enough: three requests, three articles, three forms...
        prefix = re.sub(r"[0-9]+|[A-Z]+-[0-9]+", "#", path.split("?")[0])
        if per_prefix.get(prefix, 0) >= 3:
            continue
        response = client.get(portal_url(slug, path))
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        per_prefix[prefix] = per_prefix.get(prefix, 0) + 1
        pages.append(path)
        page = _Page()
        page.feed(response.get_data(as_text=True))
        for href in page.links:
            absolute = urlsplit(urljoin(f"http://{host}{path}", href))
            if absolute.netloc != host or SKIP_PATHS.search(absolute.path):
                continue
            target = absolute.path + (f"?{absolute.query}" if absolute.query else "")
            if target not in seen:
                queue.append(target)
    return pages


@pytest.fixture
def demo(app, demo_tenants):
    """The demo tenants with their demo users, sample requests and articles (as `make run` has them)."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return demo_tenants


def _set_locale(app, tenant, lang):
    from app.accounts.models import User
    from app.extensions import db
    from app.tenancy.scoping import tenant_scope

    with app.app_context(), tenant_scope(tenant.id):
        for user in db.session.scalars(select(User)):
            user.locale = lang
        db.session.commit()


# Words that make a sentence English; a text shown the same in English and in the user's language,
# with one of these and not written by anyone (requests, names, the tenant's own texts), was never
# put through gettext.
ENGLISH_WORDS = {
    "the",
    "and",
    "of",
    "to",
    "is",
    "for",
    "your",
    "this",
    "with",
    "not",
    "you",
    "are",
    "no",
    "be",
    "by",
    "request",
    "requests",
    "please",
    "here",
    "there",
    "has",
    "have",
    "will",
    "can",
    "all",
}


def _text_nodes(html: str) -> set[str]:
    page = _Page()
    page.feed(html)
    return {re.sub(r"\s+", " ", part).strip() for part in page.parts if part.strip()}


def _written_by_people(app, tenant) -> str:
    """Everything people and the tenant's configuration wrote, in every language (allowed as is)."""
    from app.tenancy.services import export_definition
    from app.extensions import db
    from app.tenancy.scoping import tenant_scope
    from sqlalchemy import text

    import json

    with app.app_context():
        parts = [json.dumps(export_definition(tenant.slug), ensure_ascii=False)]
        with tenant_scope(tenant.id):
            for table, columns in (
                ("tickets", "summary, description"),
                ("comments", "body"),
                ("users", "name, email"),
                ("organizations", "name"),
            ):
                rows = db.session.execute(
                    text(f"SELECT {columns} FROM {table} WHERE tenant_id = :t"), {"t": tenant.id}
                ).all()
                parts += [" ".join(str(v) for v in row if v) for row in rows]
            if "help_articles" in db.metadata.tables:
                rows = db.session.execute(
                    text("SELECT title, body FROM help_articles WHERE tenant_id = :t"), {"t": tenant.id}
                ).all()
                parts += [" ".join(str(v) for v in row if v) for row in rows]
    return "\n".join(parts)


def _english_looking(node: str) -> bool:
    words = re.findall(r"[A-Za-z]+", node)
    return len(words) >= 2 and any(w.lower() in ENGLISH_WORDS for w in words) and not re.search(r"[^\x00-\x7f]", node)


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_every_page_of_every_role_is_in_the_users_language(app, demo, slug):
    tenant = demo[slug]
    problems = []
    crawled = {}
    rendered: dict[tuple[str, str, str], set[str]] = {}
    languages = sorted(tenant.locales, key=lambda code: code != "en")  # English first, to compare with
    for lang in languages:
        _set_locale(app, tenant, lang)
        pairs = _catalog_pairs(lang) if lang != "en" else []
        for role in ROLES:
            client = app.test_client()
            response = client.post(
                portal_url(slug, "/login"), data={"email": f"{role}@{slug}.test", "password": DEMO_PASSWORD}
            )
            assert response.status_code == 302, f"{role}@{slug}.test cannot log in"
            paths = crawled.setdefault(role, _crawl(client, slug, PAGES_PER_ROLE))
            assert len(paths) >= 5, f"{role} at {slug} reached only {paths}"
            for path in paths:
                html = client.get(portal_url(slug, path)).get_data(as_text=True)
                rendered[(role, path, lang)] = _text_nodes(html)
                english, empty = leftovers(html, pairs)
                problems += [f"{slug} {lang} {role} {path}: English {m!r}" for m in english]
                problems += [f"{slug} {lang} {role} {path}: empty {e}" for e in empty]
    people = _written_by_people(app, tenant)
    for (role, path, lang), nodes in rendered.items():
        if lang == "en" or (role, path, "en") not in rendered:
            continue
        for node in nodes & rendered[(role, path, "en")]:
            if _english_looking(node) and not all(part.strip() in people for part in node.split(",")):
                problems.append(f"{slug} {lang} {role} {path}: not translatable {node!r}")
    assert problems == [], "\n".join(sorted(set(problems))[:60])


def _a_day_of_support(app, slug: str, smtp) -> None:
    """The e-mails of one request's life: raised on the phone, assigned, noted, answered, moved,
    forwarded, shared, surveyed; a password reset; automatic answers to e-mails."""
    from email.message import EmailMessage

    from flask import g

    from app.accounts.models import User
    from app.catalog.models import RequestType
    from app.extensions import db
    from app.tenancy.resolution import get_tenant_context
    from app.tenancy.scoping import tenant_scope
    from app.tickets.models import Ticket
    from app.tickets.services import raise_request
    from app.workflow.models import Status
    from app.workflow.services import available_transitions
    from tests.notifications.test_request_notifications import deliver

    with app.test_request_context(portal_url(slug)):
        g.tenant = get_tenant_context(slug)
        tenant_id, support = g.tenant.id, g.tenant.settings.get("support_email")
        with tenant_scope(tenant_id):
            users = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
            request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
            ticket = raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=users["customer"],
                created_by=users["agent"],
                values={"summary": "Puhelu / hívás / telefon"},
                channel="phone",
            )
            ref, admin_id = ticket.reference, users["admin"].id
            db.session.commit()  # the boundary a view has (app.unit_of_work)
            step = next(t for t in available_transitions(ticket, "agent") if not t.requires)
            closed = db.session.scalars(
                select(Ticket.reference)
                .join(Status, Ticket.status_id == Status.id)
                .where(Status.category == "closed", Ticket.requester_id == users["customer"].id)
            ).first()
    agent = app.test_client()
    agent.post(portal_url(slug, "/login"), data={"email": f"agent@{slug}.test", "password": DEMO_PASSWORD})
    agent.post(portal_url(slug, f"/requests/{ref}/assign"), data={"assignee": str(admin_id)})
    agent.post(portal_url(slug, f"/requests/{ref}/comments"), data={"body": "Belső / sisäinen", "internal": "1"})
    agent.post(portal_url(slug, f"/requests/{ref}/comments"), data={"body": "Válasz / vastaus / odpověď"})
    agent.post(portal_url(slug, f"/requests/{ref}/transitions/{step.id}"), data={"body": "OK"})
    agent.post(portal_url(slug, f"/requests/{ref}/forward"), data={"email": "outside@partner.example", "note": "?"})
    agent.post(portal_url(slug, f"/requests/{ref}/participants"), data={"email": "newcomer@partner.example"})
    app.test_client().post(portal_url(slug, "/password/forgot"), data={"email": f"customer@{slug}.test"})
    with app.test_request_context(portal_url(slug)):
        g.tenant = get_tenant_context(slug)
        with tenant_scope(g.tenant.id):
            from app.automation.services import request_satisfaction_survey

            request_satisfaction_survey(db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one())
            db.session.commit()
    from app.mailin.intake import ingest

    for sender, subject in (
        (f"customer@{slug}.test", f"Re: [{closed}]" if closed else "Kérdés"),
        ("stranger@unknown.example", "Kérdés / kysymys / dotaz"),
    ):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, support, subject
        message["Message-ID"] = f"<{sender.split('@')[0]}-{slug}@client.example>"
        message.set_content("Szöveg / teksti / text")
        with app.app_context():
            ingest(message.as_bytes(), tenant_id)
            db.session.commit()  # the mailgate's boundary
    deliver(app)


@pytest.mark.real_commits  # an in-process RQ worker's jobs commit on sessions of their own
@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_every_email_is_in_its_recipients_language(app, demo, smtp, slug):
    from app.accounts.models import User
    from app.extensions import db
    from app.outbox.models import OutboxMessage
    from app.tenancy.scoping import tenant_scope

    tenant = demo[slug]
    app.config["MAIL_URL"] = smtp.url
    problems, kinds = [], set()
    for lang in [code for code in tenant.locales if code != "en"] or [tenant.default_locale]:
        _set_locale(app, tenant, lang)
        with app.app_context(), tenant_scope(tenant.id):
            db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.tenant_id == tenant.id))
            db.session.commit()
        _a_day_of_support(app, slug, smtp)
        with app.app_context(), tenant_scope(tenant.id):
            rows = db.session.execute(
                select(OutboxMessage, User.locale).outerjoin(User, OutboxMessage.recipient_user_id == User.id)
            ).all()
            messages = [
                (m.kind, m.recipient, locale or tenant.default_locale, m.subject, m.body_text, m.body_html)
                for m, locale in rows
            ]
        for kind, recipient, locale, subject, text, html in messages:
            kinds.add(kind)
            if locale == "en":
                continue
            pairs = _catalog_pairs(locale)
            english, _empty = leftovers(f"<p>{subject}</p><pre>{text}</pre>{html or ''}", pairs)
            problems += [f"{slug} {locale} {kind} to {recipient}: English {m!r}" for m in english]
    assert {"ticket_update", "ticket_forward", "password_reset"} <= kinds, kinds
    assert problems == [], "\n".join(sorted(set(problems))[:60])
