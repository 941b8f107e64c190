"""Outbound mail reaches a real SMTP server, or the dev outbox (a Maildir) by default."""

import mailbox
from email.message import EmailMessage

import pytest

from app.outbox.mailer import MailDeliveryError, deliver


def _message(to="anna@example.com"):
    message = EmailMessage()
    message["From"] = "Flexinform <support@flexinform.example>"
    message["To"] = to
    message["Subject"] = "[FLX-12] Bejelentés érkezett – Megoldva"
    message.set_content("Tisztelt Ügyfelünk!\n\nBejelentését rögzítettük.")
    return message


def test_delivers_over_smtp(app, smtp):
    with app.app_context():
        deliver(_message(), smtp.url)
    sender, recipients, received = smtp.messages[0]
    assert recipients == ["anna@example.com"]
    assert received["Subject"] == "[FLX-12] Bejelentés érkezett – Megoldva"
    assert "Bejelentését rögzítettük." in received.get_content()


def test_smtp_outage_is_reported_for_a_retry(app):
    with app.app_context(), pytest.raises(MailDeliveryError):
        deliver(_message(), "smtp://127.0.0.1:9")


def test_default_transport_is_the_dev_outbox_maildir(app):
    with app.app_context():
        deliver(_message())
        folder = app.config["MAIL_URL"].removeprefix("maildir://")
    messages = list(mailbox.Maildir(folder))
    assert len(messages) == 1 and "FLX-12" in messages[0]["Subject"]
