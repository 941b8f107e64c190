"""The platform side, on the bare domain: landing page, operator login, the list of tenants."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.accounts import services
from app.accounts.forms import LoginForm, show_error
from app.accounts.models import Operator
from app.i18n.selection import SESSION_KEY, available_languages
from app.tenancy.services import list_tenants

bp = Blueprint("operator", __name__)


def _is_operator() -> bool:
    return current_user.is_authenticated and isinstance(current_user._get_current_object(), Operator)


@bp.get("/")
def home():
    tenants = list_tenants() if _is_operator() else None
    scheme, domain = current_app.config["PREFERRED_URL_SCHEME"], current_app.config["PORTAL_DOMAIN"]
    return render_template("operator/home.html", tenants=tenants, scheme=scheme, domain=domain)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            operator = services.authenticate_operator(form.email.data, form.password.data, request.remote_addr)
        except services.AccountError as error:
            show_error(form, error)
        else:
            services.start_session(operator, remember=form.remember.data)
            return redirect(url_for("operator.home"))
    return render_template("operator/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("operator.home"))


@bp.post("/language")
def set_language():
    code = request.form.get("language", "")
    if code in available_languages():
        session[SESSION_KEY] = code
    return redirect("/")
