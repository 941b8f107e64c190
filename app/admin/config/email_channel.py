"""The e-mail channel: support address, intake settings, and the IMAP mailboxes polled."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from wtforms import PasswordField, StringField, ValidationError

from app.admin.config.base import apply_edit, bp, current, keep_problems, render
from app.admin.config.editing import copied, set_or_pop
from app.admin.config.inputs import ConsoleForm, Flag, WholeNumber, strip
from app.admin.services import Problem
from app.admin.summaries import summary_of
from app.security.params import int_arg

MAILBOX_INPUTS = ("host", "port", "security", "username", "folder", "processed_folder")


class EmailChannelForm(ConsoleForm):
    support_email = StringField(filters=[strip])
    email_request_type = StringField(default="")
    unknown_sender = StringField(default="")
    subject_tag = StringField(filters=[strip])
    email_rate_per_hour = WholeNumber(_l("E-mails per sender per hour"))
    max_email_mb = WholeNumber(_l("Largest e-mail (MB)"))

    def settings(self, settings: dict) -> dict:
        """The tenant's settings with the e-mail channel's keys as the inputs set them."""
        settings = dict(settings)
        set_or_pop(settings, "support_email", self.support_email.data or None)
        set_or_pop(settings, "email_request_type", self.email_request_type.data or None)
        set_or_pop(settings, "unknown_sender", self.unknown_sender.data or None)
        set_or_pop(settings, "subject_tag", self.subject_tag.data or None)
        set_or_pop(settings, "email_rate_per_hour", self.email_rate_per_hour.number)
        set_or_pop(settings, "max_email_mb", self.max_email_mb.number)
        return settings


class MailboxForm(ConsoleForm):
    host = StringField(filters=[strip], default="")
    port = StringField(filters=[strip], default="")
    security = StringField(filters=[strip], default="")
    username = StringField(filters=[strip], default="")
    folder = StringField(filters=[strip], default="")
    processed_folder = StringField(filters=[strip], default="")
    verify_certificate = Flag()
    password = PasswordField(default="")
    action = StringField(default="")  # "test": only try the connection

    def validate_port(self, field):
        if field.data and self.port_number is None:
            raise ValidationError(_("The port must be a number."))

    def validate_password(self, field):
        if not field.data:
            raise ValidationError(_("Please enter the mailbox password."))

    @property
    def port_number(self) -> int | None:
        return int_arg(self.port.data, minimum=1, maximum=65535)

    def shown(self) -> dict:
        """The inputs to show again (never the password)."""
        return {name: self[name].data for name in MAILBOX_INPUTS} | {"verify_certificate": self.verify_certificate.data}

    def connection(self) -> dict:
        return {
            "host": self.host.data,
            "port": self.port_number,
            "security": self.security.data or "ssl",
            "username": self.username.data,
            "password": self.password.data,
            "folder": self.folder.data or "INBOX",
            "verify_certificate": self.verify_certificate.data,
        }


def save_email_channel(definition: dict, settings: dict) -> dict:
    d = copied(definition)
    d["settings"] = settings
    return d


@bp.route("/email", methods=["GET", "POST"])
def email_channel():
    d = current()
    settings = dict(d["settings"])
    if request.method == "POST":
        form = EmailChannelForm()
        if not form.validate():
            keep_problems(form.problems())
        else:
            settings = form.settings(settings)
            if apply_edit(lambda d: save_email_channel(d, settings), summary_of("email_channel")) is not None:
                return redirect(url_for("admin.config.email_channel"))
    return _email_page(d, settings)


def _email_page(d: dict, settings: dict, mailbox_form: dict | None = None):
    from sqlalchemy import select

    from app.extensions import db
    from app.mailin.imap import error_words
    from app.mailin.models import Mailbox

    mailboxes = db.session.scalars(select(Mailbox).order_by(Mailbox.id)).all()
    return render(
        "admin/config/email.html",
        d=d,
        settings=settings,
        mailboxes=mailboxes,
        mailbox_form=mailbox_form or {},
        mailbox_error=error_words,
    )


@bp.post("/email/mailboxes")
def mailbox():
    """Add or update the IMAP mailbox polled for this portal, or only test the connection first.

    The password is stored encrypted and never shown again; a test never stores anything."""
    from app.mailin.mailboxes import MailboxConnectionError, set_mailbox, test_mailbox_connection

    form = MailboxForm()
    d = current()

    def again(problems: list[Problem] | None = None):
        if problems:
            keep_problems(problems)
        return _email_page(d, dict(d["settings"]), form.shown())

    if not form.validate():
        return again(form.problems())
    connection = form.connection()
    try:
        count = test_mailbox_connection(**connection)
    except MailboxConnectionError as error:
        return again([Problem(error.message)])
    if form.action.data == "test":
        flash(
            ngettext(
                "The connection works: %(num)d message in %(folder)s.",
                "The connection works: %(num)d messages in %(folder)s.",
                count,
                folder=connection["folder"],
            ),
            "success",
        )
        return again()
    set_mailbox(**connection, processed_folder=form.processed_folder.data or None)
    flash(
        _("The mailbox %(user)s at %(host)s is polled every minute.", user=form.username.data, host=form.host.data),
        "success",
    )
    return redirect(url_for("admin.config.email_channel"))


@bp.post("/email/mailboxes/<int:mailbox_id>/remove")
def remove_mailbox(mailbox_id):
    from app.mailin.mailboxes import remove_mailbox as remove

    if not remove(mailbox_id):
        abort(404)
    flash(_("The mailbox is no longer polled; its password is deleted."), "success")
    return redirect(url_for("admin.config.email_channel"))
