"""Helpers for the intake tests: real notification e-mails (delivered over SMTP by a real worker) and
replies to them written the way mail clients write them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.mailin.models import InboundMessage
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Comment, Ticket
from tests.conftest import portal_url
from tests.notifications.test_request_notifications import deliver, mails_to, request_at  # noqa: F401
from tests.tickets.test_conversation import as_

SUPPORT = {slug: f"support@{slug}.example" for slug in ("flexinform", "crmservice", "festum", "targito", "exea")}

# How a mail client quotes what it answers, per language (Gmail, Outlook, Thunderbird, Apple Mail).
ATTRIBUTION = {
    "en": "On Mon, Mar 3, 2025 at 10:12 AM Support <{support}> wrote:",
    "hu": "Support <{support}> ezt írta (időpont: 2025. márc. 3., H, 10:12):",
    "fi": "ma 3.3.2025 klo 10.12 Asiakastuki <{support}> kirjoitti:",
    "cs": "Dne po 3. 3. 2025 10:12 odesílatel Podpora <{support}> napsal:",
    "pl": "pon., 3 mar 2025 o 10:12 Wsparcie <{support}> napisał(a):",
}


def quoted_reply(new_text: str, original_text: str, *, lang: str, support: str) -> str:
    quoted = "\n".join(("> " + line).rstrip() for line in original_text.splitlines())
    return f"{new_text}\n\n{ATTRIBUTION[lang].format(support=support)}\n{quoted}\n"


def reply_message(
    mail,
    *,
    sender: str,
    body: str,
    keys=("reply_address", "threading", "subject_tag"),
    to: str | None = None,
    cc: str | None = None,
    extra_headers: dict | None = None,
) -> EmailMessage:
    """A reply to the notification ``mail`` carrying only the routing ``keys`` asked for."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = mail["Reply-To"] if "reply_address" in keys else (to or str(mail["From"]))
    if cc:
        reply["Cc"] = cc
    subject = str(mail["Subject"])
    if "subject_tag" not in keys:
        subject = subject.split("] ", 1)[-1]
    reply["Subject"] = "Re: " + subject
    reply["Message-ID"] = make_msgid(domain="client.example")
    if "threading" in keys:
        reply["In-Reply-To"] = mail["Message-ID"]
        reply["References"] = f"{mail['References']} {mail['Message-ID']}"
    for name, value in (extra_headers or {}).items():
        reply[name] = value
    reply.set_content(body)
    return reply


def new_message(*, sender: str, to: str, subject: str, body: str, cc: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="client.example")
    message.set_content(body)
    return message


@pytest.fixture
def ingest_raw(app):
    """Feed raw bytes to the pipeline; returns a plain snapshot of the stored row."""
    from app.mailin.intake import ingest

    from app.unit_of_work import unit

    def run(tenant, raw, **kwargs):
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes()
        with app.app_context(), unit():  # the boundary of the mailgate, the IMAP poll or the command
            row = ingest(raw, tenant.id, **kwargs)
            return {
                "id": row.id,
                "outcome": row.outcome,
                "reason": row.reason,
                "ticket_id": row.ticket_id,
                "comment_id": row.comment_id,
                "duplicate": row.duplicate,
                "raw_key": row.raw_key,
            }

    return run


@pytest.fixture
def notified(app, client, login, request_at, smtp):  # noqa: F811
    """A request at ``slug`` with an agent's comment, and the real e-mail the customer got about it."""

    def make(slug, *, locale=None, comment="Could you send us the log file, please?"):
        app.config["MAIL_URL"] = smtp.url
        tenant, ref = request_at(slug, locale=locale)
        as_(client, login, slug, "agent")
        assert client.post(portal_url(slug, f"/requests/{ref}/comments"), data={"body": comment}).status_code == 302
        client.post(portal_url(slug, "/logout"))
        deliver(app)
        [mail] = mails_to(smtp, "customer@example.com")
        return tenant, ref, mail

    return make


def comments_of(app, tenant, reference):
    from app.accounts.models import User

    with app.app_context(), tenant_scope(tenant.id):
        rows = db.session.execute(
            select(Comment, User.email)
            .join(Ticket, Ticket.id == Comment.ticket_id)
            .outerjoin(User, User.id == Comment.author_id)
            .where(Ticket.reference == reference)
            .order_by(Comment.id)
        ).all()
        return [(email, comment.body, comment.channel) for comment, email in rows]


def inbound_rows(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return [(r.outcome, r.reason) for r in db.session.scalars(select(InboundMessage).order_by(InboundMessage.id))]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()
