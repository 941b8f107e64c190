"""The platform side, on the bare domain: landing page, operator login, the tenants with their counts,
onboarding a tenant, suspending and resuming one."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts import authentication, sessions, users
from app.accounts.forms import LoginForm, login_rate_limit, render_login, show_error
from app.accounts.models import Operator
from app.i18n.selection import SESSION_KEY, available_languages
from app.operator.services import change_tenant_status, onboard_tenant, tenant_rows
from app.security.urls import safe_next
from app.tenancy.definition import DefinitionError
from app.tenancy.problems import problem_line
from app.tenancy.services import list_tenants

bp = Blueprint("operator", __name__)


def _is_operator() -> bool:
    return current_user.is_authenticated and isinstance(current_user._get_current_object(), Operator)


def _require_operator() -> None:
    if not _is_operator():
        abort(404)


@bp.get("/")
def home():
    rows = tenant_rows() if _is_operator() else None
    scheme, domain = current_app.config["PREFERRED_URL_SCHEME"], current_app.config["PORTAL_DOMAIN"]
    return render_template(
        "operator/home.html",
        rows=rows,
        tenants=[r.tenant for r in rows or []] if rows is not None else None,
        scheme=scheme,
        domain=domain,
    )


def _template_sources() -> list[str]:
    base = Path(current_app.config["TENANTS_DIR"])
    return sorted(p.name for p in base.iterdir() if p.is_dir() and p.name.startswith("_")) if base.is_dir() else []


@bp.route("/tenants/new", methods=["GET", "POST"])
def new_tenant():
    """Onboard a vendor: from a template or another tenant's export, with its first admin invited."""
    _require_operator()
    templates = _template_sources()
    tenants = list_tenants()
    values = {
        "slug": "",
        "name": "",
        "source": "_template",
        "languages": ["en"],
        "default_language": "en",
        "admin_email": "",
        "prefix": "",
    }
    problems: list[str] = []
    if request.method == "POST":
        values = {
            "slug": (request.form.get("slug") or "").strip().lower(),
            "name": (request.form.get("name") or "").strip(),
            "source": request.form.get("source", "_template"),
            "languages": request.form.getlist("languages"),
            "default_language": request.form.get("default_language", ""),
            "admin_email": (request.form.get("admin_email") or "").strip(),
            "prefix": (request.form.get("prefix") or "").strip().upper(),
        }
        if not values["languages"]:
            problems.append(_("Choose at least one language."))
        if not values["admin_email"]:
            problems.append(_("Enter the e-mail address of the vendor's first admin."))
        if values["source"] not in templates and values["source"] not in (f"tenant:{t.slug}" for t in tenants):
            problems.append(_("Choose what the new portal starts from."))
        if not problems:
            try:
                tenant = onboard_tenant(
                    slug=values["slug"],
                    name=values["name"],
                    source=values["source"],
                    languages=values["languages"],
                    default_language=values["default_language"],
                    admin_email=values["admin_email"],
                    prefix=values["prefix"] or None,
                    actor=current_user._get_current_object(),
                )
            except DefinitionError as error:
                problems.extend(problem_line(problem) for problem in error.problems)
            else:
                scheme, domain = current_app.config["PREFERRED_URL_SCHEME"], current_app.config["PORTAL_DOMAIN"]
                flash(
                    _(
                        "%(name)s is online at %(url)s; the invitation went to %(email)s.",
                        name=tenant.name,
                        url=f"{scheme}://{tenant.slug}.{domain}/",
                        email=values["admin_email"],
                    ),
                    "success",
                )
                return redirect(url_for("operator.home"))
    from app.templating import LANGUAGE_NAMES

    return render_template(
        "operator/new_tenant.html",
        values=values,
        problems=problems,
        templates=templates,
        tenants=tenants,
        language_names=LANGUAGE_NAMES,
    ), 422 if problems else 200


@bp.post("/tenants/<slug>/status")
def tenant_status(slug):
    _require_operator()
    status = request.form.get("status")
    if status not in ("active", "suspended"):
        abort(400)
    try:
        tenant = change_tenant_status(slug, status, actor=current_user._get_current_object())
    except DefinitionError:
        abort(404)
    flash(
        _("%(name)s is suspended: its portal says so, and its data is kept.", name=tenant.name)
        if status == "suspended"
        else _("%(name)s is active again.", name=tenant.name),
        "success",
    )
    return redirect(url_for("operator.home"))


@bp.route("/login", methods=["GET", "POST"])
@login_rate_limit("operator/login.html")
def login():
    form, problem = LoginForm(), None
    if form.validate_on_submit():
        try:
            operator = authentication.authenticate_operator(form.email.data, form.password.data)
        except users.AccountError as error:
            show_error(form, error)
            problem = error
        else:
            sessions.start_session(operator)
            return redirect(safe_next(request.args.get("next"), url_for("operator.home")))
    return render_login("operator/login.html", form, problem)


@bp.post("/logout")
def logout():
    sessions.log_out(current_user)
    return redirect(url_for("operator.home"))


@bp.post("/language")
def set_language():
    code = request.form.get("language", "")
    if code in available_languages():
        session[SESSION_KEY] = code
    return redirect("/")
