"""Column types shared by every module."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always returned as an aware UTC datetime.

    SQLite has no time zones and PostgreSQL returns aware values; this keeps both identical.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; timestamps are stored in UTC and must be aware")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class LocalizedText(TypeDecorator):
    """A tenant-configurable name: a mapping of language code to text, e.g. {"hu": ..., "en": ...}."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return {str(k): str(v) for k, v in dict(value).items()}


def pick_language(texts: dict | None, locale: str, fallbacks: list[str] | tuple[str, ...] = ()) -> str:
    """The text of a localized name in ``locale``, else the first fallback language that has one."""
    if not texts:
        return ""
    for code in (locale, *fallbacks):
        if code and texts.get(code):
            return texts[code]
    return next(iter(texts.values()))


def render_migration_type(type_, obj, autogen_context):
    """Alembic: write our column types as their plain database types, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, LocalizedText):
        return "sa.JSON()"
    return False
