"""Account forms, and the login form's page helpers shared by the tenant and the operator login.
Labels are lazy so that each request renders them in its own language."""

from __future__ import annotations

import time

from flask import Response, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.accounts import authentication, ratelimit, users
from app.extensions import limiter


# For looking up an existing account (login, reset, membership) any address with an @ will do:
# full syntax and deliverability checks are for addresses we are about to send to.
def _strip(value):
    return value.strip() if isinstance(value, str) else value


LooksLikeEmail = Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Please enter a valid e-mail address."))


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), filters=[_strip], validators=[DataRequired(), LooksLikeEmail, Length(max=320)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    # No "keep me logged in": see accounts.sessions.start_session.


def login_rate_limit(template: str):
    """The route limit of a login view: failed POSTs per client address and portal (a redirect is a
    success and costs nothing). Past the limit the form comes back with a translated wait, as 429."""

    def slowed_down(limit) -> Response:
        form = LoginForm()
        seconds = max(1, int(limit.reset_at - time.time()))
        form.form_errors.append(authentication.login_wait_message(seconds))
        return make_response(render_template(template, form=form), 429, {"Retry-After": str(seconds)})

    return limiter.limit(
        ratelimit.login_failures_per_ip,
        key_func=ratelimit.login_ip_key,
        methods=["POST"],
        deduct_when=lambda response: response.status_code != 302,
        on_breach=slowed_down,
    )


def render_login(template: str, form: LoginForm, error: users.AccountError | None = None):
    """The login form again: 422 with a wrong password, 429 (and Retry-After) while the account waits."""
    if isinstance(error, authentication.LoginThrottled):
        return render_template(template, form=form), 429, {"Retry-After": str(error.retry_after)}
    return render_template(template, form=form), 200 if not form.errors else 422


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    confirm = PasswordField(_l("Password again"), validators=[DataRequired()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), filters=[_strip], validators=[DataRequired(), LooksLikeEmail, Length(max=320)]
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired()])


class InvitationForm(SetPasswordForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"))
    timezone = SelectField(_l("Time zone"))


class AvatarForm(FlaskForm):
    avatar = FileField(_l("Profile picture"), validators=[DataRequired()])


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=320)])
    name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"))
    organization = SelectField(_l("Organization"), validators=[Optional()])
    org_admin = BooleanField(_l("Organization admin (sees all requests of the organization)"))


class UserEditForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=320)])
    role = SelectField(_l("Role"))


class OrganizationForm(FlaskForm):
    name = StringField(_l("Organization name"), validators=[DataRequired(), Length(max=200)])


class MemberForm(FlaskForm):
    email = EmailField(
        _l("E-mail address of the member"),
        filters=[_strip],
        validators=[DataRequired(), LooksLikeEmail, Length(max=320)],
    )
    is_admin = BooleanField(_l("Organization admin"))


def show_error(form, error) -> None:
    """Show a service's AccountError next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if getattr(error, "field", None) else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)
