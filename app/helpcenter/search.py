"""The portal's one search: published articles and the requests a person may see, ranked together.

Every article and every request has a row in ``help_search_documents`` with its text and the text
folded by :func:`app.helpcenter.text.fold` (lower case, no diacritics, "ł" → "l"). The database
indexes those rows itself (triggers written in the migration), so a save is indexed in its own
transaction:

- **SQLite**: FTS5 (``help_search_fts``, tokenizer ``unicode61 remove_diacritics 2``) over the folded
  title and body; every query word is a prefix query (``"zglosz"*``), ranked by ``bm25`` with the
  title weighted 10 to 1 over the body.
- **PostgreSQL**: ``search_vector`` (tsvector, GIN index) = the text under the language's own
  configuration where PostgreSQL has one (hungarian, finnish, english: stemming) plus the folded text
  under ``simple`` (Czech, Polish and every language: diacritics-free prefix matching), the title
  weighted A and the body B, ranked by ``ts_rank``.
- **Typos** (both): when the index finds fewer than asked for, a second pass compares the query's words
  with the words of candidate documents in Python (Damerau-Levenshtein distance 1, 2 for words of
  8+ letters). On PostgreSQL with ``pg_trgm`` the candidates are the 50 most trigram-similar
  documents (``word_similarity``); otherwise (SQLite, or PostgreSQL without the extension) the 300
  most recently updated documents the person may see. These matches rank below every index match.

Articles are searched in the person's language and the tenant's default language; requests in any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

from flask import Flask, url_for
from markupsafe import Markup
from sqlalchemy import (
    and_,
    column,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
    update,
)

from app.db_types import utcnow
from app.extensions import db
from app.helpcenter.models import Article, SearchDocument
from app.helpcenter.policy import visible_articles_clause
from app.helpcenter.text import fold, highlight, plain, within_one_typo, _WORD
from app.tenancy.models import Tenant
from app.tickets import events
from app.tickets.models import Ticket
from app.tickets.policy import visible_tickets_clause

SEARCH_CONFIGS = {"hu": "hungarian", "fi": "finnish", "en": "english"}  # PostgreSQL's own; others: simple

# Made by hand-written SQL in the migration, not by the models: autogenerate must leave them alone.
FTS_TABLE = "help_search_fts"
RAW_SQL_COLUMNS = {("help_search_documents", "search_vector")}
RAW_SQL_INDEXES = {"ix_help_search_documents_search_vector", "ix_help_search_documents_folded_trgm"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object``: skip the search index objects created by raw SQL (the FTS5 table
    and its shadow tables ``help_search_fts_*``, the tsvector column and its indexes)."""
    if type_ == "table" and name and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    if type_ == "column" and (getattr(obj, "table", None) is not None) and (obj.table.name, name) in RAW_SQL_COLUMNS:
        return False
    if type_ == "index" and name in RAW_SQL_INDEXES:
        return False
    return True


def search_config(language: str) -> str:
    return SEARCH_CONFIGS.get(language, "simple")


# --- keeping the documents in step ---------------------------------------------------------------


def _document_values(*, language: str, title: str, body: str, folded_title_extra: str = "") -> dict:
    body = plain(body)
    return {
        "language": language,
        "search_config": search_config(language),
        "title": title[:500],
        "body": body,
        "folded_title": fold(f"{folded_title_extra} {title}".strip())[:500],
        "folded_body": fold(body),
        "updated_at": utcnow(),
    }


def index_article(article: Article) -> None:
    """Write the article's search document (the database's triggers update the index)."""
    values = _document_values(language=article.language, title=article.title, body=article.body)
    document = db.session.execute(
        select(SearchDocument).where(SearchDocument.article_id == article.id)
    ).scalar_one_or_none()
    if document is None:
        document = SearchDocument(kind="article", article_id=article.id, tenant_id=article.tenant_id)
        db.session.add(document)
    for key, value in values.items():
        setattr(document, key, value)
    db.session.flush()


def index_ticket_row(connection, ticket: Ticket) -> None:
    """Upsert a request's document on ``connection`` (Core: usable inside a flush)."""
    documents = SearchDocument.__table__
    language = connection.execute(select(Tenant.default_locale).where(Tenant.id == ticket.tenant_id)).scalar() or "en"
    values = _document_values(
        language=language,
        title=ticket.summary or "",
        body=ticket.description or "",
        folded_title_extra=ticket.reference or "",
    )
    changed = connection.execute(update(documents).where(documents.c.ticket_id == ticket.id).values(**values))
    if not changed.rowcount:
        connection.execute(
            insert(documents).values(kind="ticket", ticket_id=ticket.id, tenant_id=ticket.tenant_id, **values)
        )


def init_app(app: Flask) -> None:
    """Keep ``app``'s requests searchable: a request is indexed when it is raised and whenever its
    text changes (``RequestCreated``, ``TextChanged``), in the transaction that changed it."""
    events.request_created.connect(_on_request_created, app)
    events.text_changed.connect(_on_text_changed, app)


def _on_request_created(app: Flask, *, event: events.RequestCreated) -> None:
    index_ticket_row(db.session.connection(), event.ticket)


def _on_text_changed(app: Flask, *, event: events.TextChanged) -> None:
    index_ticket_row(db.session.connection(), event.ticket)


def index_missing_tickets() -> int:
    """Index the current tenant's requests that have no search document yet (requests raised before
    the help center existed); called by ``flask demo seed``, cheap when there are none."""
    connection = db.session.connection()
    missing = db.session.scalars(
        select(Ticket).where(
            Ticket.id.not_in(select(SearchDocument.ticket_id).where(SearchDocument.ticket_id.is_not(None)))
        )
    ).all()
    for ticket in missing:
        index_ticket_row(connection, ticket)
    return len(missing)


def reindex_all() -> int:
    """Rebuild every document of the current tenant (``flask helpcenter reindex``)."""
    count = 0
    for article in db.session.scalars(select(Article)):
        index_article(article)
        count += 1
    connection = db.session.connection()
    for ticket in db.session.scalars(select(Ticket)):
        index_ticket_row(connection, ticket)
        count += 1
    return count


# --- querying --------------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str  # article | ticket
    url: str
    title: Markup
    snippet: Markup
    score: float
    article: Article | None = None
    ticket: Ticket | None = None


@dataclass
class _Hit:
    id: int
    kind: str
    ref_id: int
    tier: int  # 1: found by the index; 0: by the typo pass
    score: float
    words: set = field(default_factory=set)


_trgm_cache: dict[str, bool] = {}


def _has_trgm(connection) -> bool:
    key = str(connection.engine.url)
    if key not in _trgm_cache:
        _trgm_cache[key] = (
            connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is not None
        )
    return _trgm_cache[key]


def _visible(statement, user, tenant_id: int, languages, kinds):
    statement = statement.outerjoin(Article, Article.id == SearchDocument.article_id).outerjoin(
        Ticket, Ticket.id == SearchDocument.ticket_id
    )
    article_ok = (
        and_(
            SearchDocument.kind == "article",
            visible_articles_clause(user, tenant_id),
            SearchDocument.language.in_(languages),
        )
        if "article" in kinds
        else false()
    )
    ticket_ok = and_(SearchDocument.kind == "ticket", visible_tickets_clause(user)) if "ticket" in kinds else false()
    return statement.where(SearchDocument.tenant_id == tenant_id, or_(article_ok, ticket_ok))


def _ref_column():
    return func.coalesce(SearchDocument.article_id, SearchDocument.ticket_id)


def _index_hits(user, tenant_id, words, raw_words, *, mode, language, languages, kinds, limit) -> list[_Hit]:
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        match = (" " if mode == "all" else " OR ").join(f'"{w}"*' for w in words)
        score = literal_column(f"-bm25({FTS_TABLE}, 10.0, 1.0)")
        statement = (
            select(SearchDocument.id, SearchDocument.kind, _ref_column(), score)
            .join(fts, fts.c.rowid == SearchDocument.id)
            .where(text(f"{FTS_TABLE} MATCH :match").bindparams(match=match))
        )
    else:
        config = literal_column(f"'{search_config(language)}'::regconfig")
        parts = [
            func.plainto_tsquery(config, raw).op("||")(func.to_tsquery("simple", f"{word}:*"))
            for raw, word in zip(raw_words, words)
        ]
        query = reduce(lambda a, b: a.op("&&" if mode == "all" else "||")(b), parts)
        vector = literal_column("help_search_documents.search_vector")
        score = func.ts_rank(vector, query)
        statement = select(SearchDocument.id, SearchDocument.kind, _ref_column(), score).where(vector.op("@@")(query))
    statement = _visible(statement, user, tenant_id, languages, kinds).order_by(score.desc(), SearchDocument.id.desc())
    return [
        _Hit(id=row[0], kind=row[1], ref_id=row[2], tier=1, score=float(row[3]), words=set(words))
        for row in db.session.execute(statement.limit(limit))
    ]


def _typo_hits(user, tenant_id, words, *, mode, languages, kinds, exclude, limit) -> list[_Hit]:
    long_words = [w for w in words if len(w) >= 4]
    if not long_words:
        return []
    statement = select(
        SearchDocument.id, SearchDocument.kind, _ref_column(), SearchDocument.folded_title, SearchDocument.folded_body
    )
    statement = _visible(statement, user, tenant_id, languages, kinds)
    if exclude:
        statement = statement.where(SearchDocument.id.not_in(exclude))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and _has_trgm(connection):
        similarity = func.word_similarity(
            " ".join(words), SearchDocument.folded_title + " " + SearchDocument.folded_body
        )
        statement = statement.where(similarity > 0.3).order_by(similarity.desc()).limit(50)
    else:
        statement = statement.order_by(SearchDocument.updated_at.desc()).limit(300)
    hits = []
    for doc_id, kind, ref_id, folded_title, folded_body in db.session.execute(statement):
        title_words, body_words = set(_WORD.findall(folded_title)), set(_WORD.findall(folded_body))
        score, matched, found = 0.0, 0, set()
        for word in words:
            best = 0.0
            for weight, vocabulary in ((3.0, title_words), (1.0, body_words)):
                exact = [v for v in vocabulary if v.startswith(word)]
                close = exact or [v for v in vocabulary if len(word) >= 4 and within_one_typo(word, v)]
                if close:
                    best = max(best, weight if exact else weight * 0.7)
                    found.update(close[:3])
            if best:
                matched += 1
                score += best
        if matched and (mode == "any" or matched == len(words)):
            hits.append(_Hit(id=doc_id, kind=kind, ref_id=ref_id, tier=0, score=score, words=found))
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


def search(
    user,
    query: str,
    *,
    tenant_id: int,
    language: str,
    default_language: str,
    kinds=("article", "ticket"),
    mode: str = "all",
    limit: int = 20,
) -> list[Result]:
    """Ranked results of ``query`` among what ``user`` may see (``mode``: every word, or any word)."""
    raw_words = _WORD.findall((query or "").lower())[:8]
    words = [fold(w) for w in raw_words]
    pairs = [(r, w) for r, w in zip(raw_words, words) if len(w) >= (3 if mode == "any" else 1)]
    if not pairs:
        return []
    raw_words, words = [p[0] for p in pairs], [p[1] for p in pairs]
    languages = list(dict.fromkeys([language, default_language]))
    hits = _index_hits(
        user, tenant_id, words, raw_words, mode=mode, language=language, languages=languages, kinds=kinds, limit=limit
    )
    if mode == "all" and not hits and len(words) > 1:
        hits = _index_hits(
            user,
            tenant_id,
            words,
            raw_words,
            mode="any",
            language=language,
            languages=languages,
            kinds=kinds,
            limit=limit,
        )
    if len(hits) < limit:
        hits += _typo_hits(
            user,
            tenant_id,
            words,
            mode=mode,
            languages=languages,
            kinds=kinds,
            exclude=[h.id for h in hits],
            limit=limit - len(hits),
        )
    return _results(hits)


def _results(hits: list[_Hit]) -> list[Result]:
    from sqlalchemy.orm import joinedload

    article_ids = [h.ref_id for h in hits if h.kind == "article"]
    ticket_ids = [h.ref_id for h in hits if h.kind == "ticket"]
    articles = {a.id: a for a in db.session.scalars(select(Article).where(Article.id.in_(article_ids or [0])))}
    tickets = {
        t.id: t
        for t in db.session.scalars(
            select(Ticket).options(joinedload(Ticket.status)).where(Ticket.id.in_(ticket_ids or [0]))
        )
    }
    results = []
    for hit in hits:
        words = sorted(hit.words)
        if hit.kind == "article" and hit.ref_id in articles:
            article = articles[hit.ref_id]
            results.append(
                Result(
                    "article",
                    url_for("helpcenter.article", slug=article.slug),
                    highlight(article.title, words),
                    highlight(plain(article.body), words, width=220),
                    hit.score,
                    article=article,
                )
            )
        elif hit.kind == "ticket" and hit.ref_id in tickets:
            ticket = tickets[hit.ref_id]
            results.append(
                Result(
                    "ticket",
                    url_for("tickets.detail", reference=ticket.reference),
                    highlight(ticket.summary, words),
                    highlight(ticket.description, words, width=220),
                    hit.score,
                    ticket=ticket,
                )
            )
    return results
