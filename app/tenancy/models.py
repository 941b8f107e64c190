"""The tenant: a vendor with its own branded portal. Not tenant-scoped itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import Model
from app.tenancy.scoping import TenantScoped

TENANT_ACTIVE = "active"
TENANT_SUSPENDED = "suspended"


class Tenant(Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=TENANT_ACTIVE)
    default_locale: Mapped[str] = mapped_column(String(10))
    locales: Mapped[list] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    registration_mode: Mapped[str] = mapped_column(String(20), default="open")
    reference_prefix: Mapped[str] = mapped_column(String(10))
    branding: Mapped[dict] = mapped_column(JSON, default=dict)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # The logo uploaded in the admin console (a storage key under the tenant's prefix). Not part of
    # the definition: a file is no configuration text and a key never travels to another tenant.
    logo_key: Mapped[str | None] = mapped_column(String(300))
    # Bumped on every configuration change; configuration caches are keyed by it.
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status == TENANT_ACTIVE

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class StringOverride(TenantScoped, Model):
    """A tenant's own wording of a UI string in one language (wins over the app catalog)."""

    __tablename__ = "string_overrides"
    __table_args__ = (UniqueConstraint("tenant_id", "locale", "msgid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(10))
    msgid: Mapped[str] = mapped_column(String(1000))
    msgstr: Mapped[str] = mapped_column(String(2000))
