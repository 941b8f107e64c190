"""Help-center tables: articles (with versions, organizations and files), the search documents
that index articles and requests together, and the suggestion events behind deflection counts.

The full-text index itself lives outside the models, in hand-written SQL of the migration:
- SQLite: the FTS5 table ``help_search_fts`` (external content over ``help_search_documents``),
  kept in sync by three triggers on that table;
- PostgreSQL: the column ``help_search_documents.search_vector`` (tsvector) with a GIN index,
  filled by a BEFORE INSERT/UPDATE trigger from ``search_config``, the texts and their folded forms.
Both are listed in ``app.helpcenter.search.RAW_SQL_OBJECTS`` so that autogenerate leaves them alone.
A future batch migration of ``help_search_documents`` on SQLite recreates the table: re-create the
triggers afterwards (see the help-center migration).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db_types import UTCDateTime, utcnow
from app.extensions import Model
from app.tenancy.scoping import TenantScoped

DRAFT, PUBLISHED = "draft", "published"
STATUSES = (DRAFT, PUBLISHED)
# public: anyone, also anonymous visitors; customers: logged-in people of the tenant;
# organizations: members of the organizations chosen on the article (and staff).
VISIBILITIES = ("public", "customers", "organizations")


class Article(TenantScoped, Model):
    """One help article in one language (a translation is another article with its own slug)."""

    __tablename__ = "help_articles"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        Index("ix_help_articles_tenant_status_language", "tenant_id", "status", "language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(120), default="")
    portal_id: Mapped[int | None] = mapped_column(ForeignKey("portals.id", ondelete="SET NULL"))
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    version: Mapped[int] = mapped_column(Integer, default=1)  # the number of the current text
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organizations: Mapped[list["ArticleOrganization"]] = relationship(cascade="all, delete-orphan")

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED


class ArticleOrganization(TenantScoped, Model):
    """An organization whose members may read an article of visibility ``organizations``."""

    __tablename__ = "help_article_organizations"
    __table_args__ = (
        UniqueConstraint("article_id", "organization_id"),
        Index("ix_help_article_organizations_tenant_org", "tenant_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("help_articles.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))


class ArticleVersion(TenantScoped, Model):
    """A previous text of an article, kept by every save (restore makes it current again)."""

    __tablename__ = "help_article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "number"),
        Index("ix_help_article_versions_tenant_article", "tenant_id", "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("help_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(120), default="")
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    saved_by: Mapped[User | None] = relationship()


class ArticleFile(TenantScoped, Model):
    """A file or image of an article, in the storage layer under ``<tenant>/help/<article>/<uuid>``."""

    __tablename__ = "help_article_files"
    __table_args__ = (Index("ix_help_article_files_tenant_article", "tenant_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("help_articles.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_image(self) -> bool:
        return self.content_type in ("image/png", "image/jpeg", "image/gif", "image/webp")


class SearchDocument(TenantScoped, Model):
    """What the search reads: one row per article and per request, with the texts folded
    (lower case, without diacritics: "zgłoszenie" → "zgloszenie") by ``app.helpcenter.text.fold``."""

    __tablename__ = "help_search_documents"
    __table_args__ = (Index("ix_help_search_documents_tenant_kind_language", "tenant_id", "kind", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # article | ticket
    article_id: Mapped[int | None] = mapped_column(ForeignKey("help_articles.id", ondelete="CASCADE"), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(10))
    search_config: Mapped[str] = mapped_column(String(20), default="simple")  # PostgreSQL text search config
    title: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    folded_title: Mapped[str] = mapped_column(String(500), default="")
    folded_body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SuggestionEvent(TenantScoped, Model):
    """A suggested article was shown to, or opened by, a customer writing a new request.

    ``visit`` is a random id kept in the person's session for the form they are filling in."""

    __tablename__ = "help_suggestion_events"
    __table_args__ = (
        Index("ix_help_suggestion_events_tenant_created", "tenant_id", "created_at"),
        Index("ix_help_suggestion_events_tenant_article", "tenant_id", "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # shown | opened
    visit: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("help_articles.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
