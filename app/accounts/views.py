"""Getting in and managing one's own account, on ``<tenant>.<PORTAL_DOMAIN>``."""

from __future__ import annotations


from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.accounts import authentication, passwords, profiles, registration, sessions, tokens, users
from app.accounts.forms import (
    AvatarForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    InvitationForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
    login_rate_limit,
    render_login,
    show_error,
)
from app.accounts.models import User
from app.accounts.policy import can_see_avatar
from app.extensions import db
from app.i18n.timezones import timezone_choices
from app.security.urls import safe_next
from app.templating import LANGUAGE_NAMES

bp = Blueprint("accounts", __name__, subdomain="<tenant>")


@bp.route("/login", methods=["GET", "POST"])
@login_rate_limit("accounts/login.html")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("portal.home")))
    form, problem = LoginForm(), None
    if form.validate_on_submit():
        try:
            user = authentication.authenticate(form.email.data, form.password.data)
        except users.AccountError as error:
            show_error(form, error)
            problem = error
        else:
            sessions.start_session(user)
            return redirect(safe_next(request.args.get("next"), url_for("portal.home")))
    return render_login("accounts/login.html", form, problem)


@bp.post("/logout")
def logout():
    sessions.log_out(current_user)
    flash(_("You have been logged out."), "success")
    return redirect(url_for("portal.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if g.tenant.registration_mode != "open":
        return render_template("accounts/invite_only.html")
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            registration.register(
                form.email.data,
                form.name.data,
                form.password.data,
                form.confirm.data,
                locale=request.form.get("locale") or None,
            )
        except users.AccountError as error:
            show_error(form, error)
        else:
            return render_template("accounts/check_mailbox.html", email=form.email.data)
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token):
    """The link sent to a new address: GET shows the change (mail scanners open links), POST makes it."""
    try:
        if request.method == "POST":
            users.confirm_email_change(token)
        else:
            user, new_email = users.email_change_for_link(token)
    except users.AccountError as error:
        return render_template("accounts/link_problem.html", message=error.message), 400
    if request.method == "POST":
        flash(_("Your e-mail address is changed. Log in with the new address."), "success")
        return redirect(url_for("portal.home") if current_user.is_authenticated else url_for("accounts.login"))
    return render_template("accounts/confirm_email_change.html", user=user, new_email=new_email)


@bp.get("/verify/<token>")
def verify_email(token):
    try:
        registration.verify_email(token)
    except users.AccountError as error:
        return render_template("accounts/link_problem.html", message=error.message), 400
    flash(_("Thank you, your e-mail address is confirmed."), "success")
    return redirect(url_for("accounts.login") if not current_user.is_authenticated else url_for("portal.home"))


@bp.post("/verify/resend")
@login_required
def resend_verification():
    if registration.resend_verification(current_user):
        flash(_("We have sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    else:
        flash(
            _(
                "A new confirmation link could not be sent just now: several have been sent lately. Please check "
                "your mailbox, or try again later."
            ),
            "error",
        )
    return redirect(safe_next(request.form.get("next"), url_for("accounts.profile")))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        passwords.request_password_reset(form.email.data)
        return render_template("accounts/check_mailbox.html", email=form.email.data, reset=True)
    return render_template("accounts/forgot_password.html", form=form)


def _password_link(token: str, purpose: str, template: str, form_class):
    user = passwords.user_for_link(token, purpose)
    if user is None:
        return render_template(
            "accounts/link_problem.html", message=_("This link is not valid, has expired or has already been used.")
        ), 400
    form = form_class()
    if request.method == "GET" and hasattr(form, "name"):
        form.name.data = user.name
    if form.validate_on_submit():
        try:
            passwords.set_password_from_link(
                token,
                form.password.data,
                form.confirm.data,
                purpose=purpose,
                name=form.name.data if hasattr(form, "name") else None,
            )
        except users.AccountError as error:
            show_error(form, error)
        else:
            sessions.start_session(user)
            flash(_("Your password is set. Welcome!"), "success")
            return redirect(url_for("portal.home"))
    return render_template(template, form=form, user=user), 200 if not form.errors else 422


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    return _password_link(token, tokens.RESET_PASSWORD, "accounts/reset_password.html", SetPasswordForm)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def set_password(token):
    return _password_link(token, tokens.SET_PASSWORD, "accounts/set_password.html", InvitationForm)


def _profile_form(prefill: bool) -> ProfileForm:
    form = ProfileForm()
    form.locale.choices = [SelectChoice(code, LANGUAGE_NAMES[code]) for code in g.tenant.locales]
    form.timezone.choices = [SelectChoice(tz, name) for tz, name in timezone_choices(str(get_locale()))]
    if prefill:
        form.name.data = current_user.name
        form.locale.data = current_user.locale or g.tenant.default_locale
        form.timezone.data = current_user.timezone or g.tenant.timezone
    return form


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = _profile_form(prefill=request.method == "GET")
    if request.method == "POST" and form.validate_on_submit():
        try:
            profiles.update_profile(
                current_user, name=form.name.data, locale=form.locale.data, timezone=form.timezone.data
            )
        except users.AccountError as error:
            show_error(form, error)
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/profile.html", form=form, avatar_form=AvatarForm(), password_form=ChangePasswordForm()
    ), 200 if not form.errors else 422


@bp.post("/profile/avatar")
@login_required
def upload_avatar():
    form = AvatarForm()
    if form.validate_on_submit():
        try:
            profiles.set_avatar(current_user, form.avatar.data)
        except users.AccountError as error:
            show_error(form, error)
        else:
            flash(_("Your profile picture is saved."), "success")
            return redirect(url_for("accounts.profile"))
    elif not form.avatar.errors:
        form.avatar.errors = [_("Please choose a picture.")]
    return render_template(
        "accounts/profile.html", form=_profile_form(prefill=True), avatar_form=form, password_form=ChangePasswordForm()
    ), 422


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            passwords.change_password(current_user, form.current.data, form.password.data, form.confirm.data)
        except users.AccountError as error:
            show_error(form, error)
        else:
            flash(_("Your password is changed."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form), 200 if not form.errors else 422


@bp.get("/people/<int:user_id>/avatar")
@login_required
def avatar(user_id):
    from app.storage import StorageError, get_storage

    user = db.session.get(User, user_id)
    if user is None or not user.avatar_key or not can_see_avatar(current_user, user):
        abort(404)
    try:
        stream = get_storage().open(user.avatar_key)
    except StorageError:
        abort(404)
    return send_file(stream, mimetype="image/png", max_age=300)
