"""The customer portal's home page and language switcher, on ``<tenant>.<PORTAL_DOMAIN>``."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user

from app.catalog.services import portal_catalog
from app.i18n.selection import SESSION_KEY, available_languages
from app.security.urls import safe_next

bp = Blueprint("portal", __name__, subdomain="<tenant>")
# Static files on tenant hosts (Flask's own static route serves only the bare domain).
static_bp = Blueprint("tenant_static", __name__, subdomain="<tenant>")


@bp.get("/")
def home():
    return render_template("portal/home.html", portals=portal_catalog(g.tenant))


@bp.get("/branding/logo/<version>")
def logo(version):
    """The tenant's logo; the URL changes with every upload, so browsers may keep it for long."""
    from app.storage import StorageError, get_storage

    key = g.tenant.logo_key
    if not key or key.rsplit("/", 1)[1] != version or not key.startswith(f"{g.tenant.id}/"):
        abort(404)
    try:
        stream = get_storage().open(key)
    except StorageError:
        abort(404)
    return send_file(stream, mimetype="image/png", max_age=30 * 86400)


@bp.post("/language")
def set_language():
    code = request.form.get("language", "")
    if code in available_languages():
        session[SESSION_KEY] = code
        if current_user.is_authenticated:
            current_user.locale = code
    return redirect(safe_next(request.form.get("next"), url_for("portal.home")))


@static_bp.get("/static/<path:filename>")
def static(filename):
    return send_from_directory(current_app.static_folder, filename, max_age=3600)
