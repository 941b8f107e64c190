"""Template helpers shared by every module: localized names, branding, language names."""

from __future__ import annotations

import re

import nh3
from flask import g
from markdown_it import MarkdownIt
from markupsafe import Markup
from flask_babel import get_locale, lazy_gettext as _l

from app.db_types import pick_language
from app.i18n.selection import available_languages

# Each language is named in itself, so that a reader finds their own.
LANGUAGE_NAMES = {"hu": "Magyar", "fi": "Suomi", "cs": "Čeština", "pl": "Polski", "en": "English"}


def localized(texts: dict | None) -> str:
    """A tenant-configured name in the current language (then the tenant's default, then English)."""
    tenant = g.get("tenant")
    fallbacks = (tenant.default_locale, "en") if tenant else ("en",)
    return pick_language(texts, str(get_locale()), fallbacks)


# Light Markdown: emphasis, lists, code, quotes and links; line breaks kept; no raw HTML, no images,
# no headings. The result is sanitized again, so nothing a person writes can run in another's browser.
_markdown = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": True}).enable(
    ["emphasis", "list", "backticks", "fence", "blockquote", "link", "linkify", "newline", "escape", "paragraph"]
)
_USER_TEXT_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "blockquote", "a"}


def user_text(text: str | None) -> Markup:
    """Text a person wrote (descriptions, comments), rendered as light Markdown and sanitized."""
    if not text:
        return Markup("")
    html = _markdown.render(text)
    return Markup(
        nh3.clean(
            html,
            tags=_USER_TEXT_TAGS,
            attributes={"a": {"href"}},
            link_rel="nofollow noopener noreferrer",
            url_schemes={"http", "https", "mailto"},
        )
    )


def field_value(value, field) -> str:
    """A stored field value as the viewer reads it: option labels in their language, dates localized."""
    from flask_babel import format_date, format_decimal, gettext

    if value is None or value == "":
        return ""
    if field.type == "select":
        return localized(field.option_label(value)) or str(value)
    if field.type == "multiselect":
        return ", ".join(localized(field.option_label(v)) or str(v) for v in value)
    if field.type == "checkbox":
        return gettext("Yes") if value else gettext("No")
    if field.type == "date":
        from datetime import date

        try:
            return format_date(date.fromisoformat(value), "long")
        except ValueError:
            return str(value)
    if field.type == "number":
        return format_decimal(value)
    return str(value)


def filesize(size: int) -> str:
    from flask_babel import format_decimal

    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024, 1))} kB"
    return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"


def brand_palette(color: str | None) -> dict | None:
    """The tenant's main colour as the CSS variables the Bootstrap theme in portal.css reads.

    ``dark`` (hover and pressed states) is the colour mixed 15 % towards black; the admin console
    only accepts main colours that keep white text readable, so the darker shade does too.
    """
    if not color or len(color) != 7 or not color.startswith("#"):
        return None
    try:
        rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    except ValueError:
        return None
    dark = "#" + "".join(f"{round(c * 0.85):02x}" for c in rgb)
    return {"color": color, "rgb": ", ".join(str(c) for c in rgb), "dark": dark}


_CSS_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_CSS_IDENT = re.compile(r"[A-Za-z0-9_-]+")


def css_color(value: str | None, default: str = "#6c757d") -> str:
    """A ``#rgb``/``#rrggbb`` colour safe to write into a ``<style>`` block; anything else (a typo
    echoed back by a form, an attempt at CSS injection) becomes ``default``."""
    return value if isinstance(value, str) and _CSS_COLOR.fullmatch(value) else default


def status_color_rules(statuses) -> str:
    """CSS giving each status its colour: ``.status-color-<key> { --status-color: … }``.

    Pages put it in a nonce'd ``<style>`` (the CSP forbids ``style=`` attributes); it lists every
    status given, so rows swapped in by the live filters find their colour too. Accepts models or
    the console's definition dicts.
    """
    rules = []
    for status in statuses:
        key = status["key"] if isinstance(status, dict) else status.key
        color = status.get("color") if isinstance(status, dict) else status.color
        if isinstance(key, str) and _CSS_IDENT.fullmatch(key):
            rules.append(f".status-color-{key} {{ --status-color: {css_color(color)}; }}")
    return "\n".join(rules)


def init_app(app) -> None:
    from app.i18n.babel import install_escaping_gettext

    from app.tenancy.settings import tenant_settings

    install_escaping_gettext(app)
    app.jinja_env.filters["localized"] = localized
    app.jinja_env.filters["user_text"] = user_text
    app.jinja_env.filters["field_value"] = field_value
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["css_color"] = css_color
    app.jinja_env.globals["status_color_rules"] = status_color_rules
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        tenant = g.get("tenant")
        return {
            "tenant": tenant,
            "tenant_settings": tenant_settings(tenant) if tenant else None,
            "current_locale": str(get_locale()),
            "languages": [(code, LANGUAGE_NAMES[code]) for code in available_languages()],
            "branding": (tenant.branding if tenant else {}) or {},
            "brand": brand_palette(((tenant.branding if tenant else {}) or {}).get("primary_color")),
            "platform_name": _l("Support portals"),
        }
