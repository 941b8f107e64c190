"""Unhandled input (ASVS 5.1.3, 5.1.4, 5.2.2, 7.4.1): absurd numbers in the query string, forms and URLs,
line breaks in a request's summary, a message the mailer cannot build, a non-ASCII IMAP folder name.
None of them is a 500, and no e-mail is retried forever."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tickets.models import Ticket, TicketEvent
from tests.conftest import portal_url
from tests.mailin.conftest import ingest_raw  # noqa: F401
from tests.mailin.test_imap import dovecot, imap  # noqa: F401  (the IMAP server fixture)
from tests.notifications.test_request_notifications import deliver, mails_to, request_at  # noqa: F401
from tests.tickets.test_conversation import as_

HUGE = "99999999999999999999999"
ABSURD = (HUGE, "2147483648", "9223372036854775808", "-1", "0", "abc", "²", "1e9", " ", "1" * 5000)


def _staff(client, login, make_user, tenant):
    make_user(tenant, "admin@example.com", role="admin")
    login(tenant.slug, "admin@example.com")


def test_absurd_numbers_in_the_query_string_are_never_a_server_error(app, client, request_at, login, make_user):
    tenant, ref = request_at("targito")
    _staff(client, login, make_user, tenant)
    for value in ABSURD:
        for path in (
            f"/requests?page={value}",
            f"/requests?type={value}&assignee={value}",
            f"/requests?scope=all&page={value}&sort=-updated",
            f"/admin/users?page={value}",
            f"/admin/config/audit?page={value}",
            f"/help/search?q=mentés&page={value}",
            f"/help/suggest?q=mentes&limit={value}",
            f"/agent/?page={value}",
        ):
            response = client.get(portal_url("targito", path))
            assert response.status_code < 500, (path, response.status_code)
            if response.status_code == 302:
                follow = client.get(response.headers["Location"])
                assert follow.status_code < 500, (path, follow.status_code)
    listing = client.get(portal_url("targito", f"/requests?scope=all&page={HUGE}"))
    assert listing.status_code == 200


def test_absurd_ids_in_urls_are_a_plain_404(app, client, request_at, login, make_user):
    tenant, ref = request_at("targito")
    _staff(client, login, make_user, tenant)
    for value in (HUGE, "2147483648", "9223372036854775808"):
        for path in (
            f"/admin/users/{value}",
            f"/admin/organizations/{value}",
            f"/help/manage/{value}",
            f"/help/manage/{value}/history",
            f"/people/{value}/avatar",
            f"/requests/{ref}/attachments/{value}",
            f"/help/articles/x/files/{value}",
        ):
            response = client.get(portal_url("targito", path))
            assert response.status_code == 404, (path, response.status_code)
        for path in (
            f"/requests/{ref}/transitions/{value}",
            f"/admin/users/{value}/active",
            f"/requests/{ref}/participants/{value}/remove",
            f"/admin/config/email/mailboxes/{value}/remove",
        ):
            response = client.post(portal_url("targito", path))
            assert response.status_code in (302, 404), (path, response.status_code)


def test_absurd_numbers_in_forms_are_never_a_server_error(app, client, request_at, login, make_user):
    tenant, ref = request_at("targito")
    _staff(client, login, make_user, tenant)
    with app.app_context(), tenant_scope(tenant.id):
        ticket_id = db.session.scalars(select(Ticket.id)).one()
    for value in ABSURD:
        for path, data in (
            (f"/requests/{ref}/assign", {"assignee": value}),
            (f"/requests/{ref}/type", {"request_type": value}),
            (f"/requests/{ref}/organizations", {"organization": value, "share": "1"}),
            (f"/requests/{ref}/comments", {"body": "x", "transition": value}),
            ("/agent/bulk", {"ticket": [str(ticket_id), value], "assignee": value}),
        ):
            response = client.post(portal_url("targito", path), data=data)
            assert response.status_code < 500, (path, value, response.status_code)


@pytest.mark.real_commits  # an in-process RQ worker's jobs commit on sessions of their own
def test_line_breaks_in_a_summary_never_reach_an_email_header(app, client, request_at, login, smtp):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("flexinform", values={"summary": "Awaria\r\nBcc: victim@example.org\r\n\r\nInjected body"})
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.scalars(select(Ticket)).one()
        assert "\n" not in ticket.summary and "\r" not in ticket.summary  # stored on one line
        assert ticket.summary.startswith("Awaria")
    as_(client, login, "flexinform", "agent")
    client.post(
        portal_url("flexinform", f"/requests/{ref}/details"), data={"summary": "Nowa\nSubject: injected\r\nX-Evil: 1"}
    )
    with app.app_context(), tenant_scope(tenant.id):
        assert "\n" not in db.session.scalars(select(Ticket)).one().summary
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Odpowiedź"})
    deliver(app)
    sent = [m for _sender, _rcpts, m in smtp.messages]
    assert sent
    for message in sent:
        head = message.raw.decode(errors="replace").split("\r\n\r\n", 1)[0]
        assert not [line for line in head.splitlines() if line.lower().startswith(("bcc:", "x-evil:"))]
        assert message["Bcc"] is None and message["X-Evil"] is None
        assert "Injected body" not in message.get_body(("plain",)).get_content().split("\n", 1)[0]
    assert [rcpt for _sender, rcpts, _m in smtp.messages for rcpt in rcpts if "victim" in rcpt] == []


@pytest.mark.real_commits  # an in-process RQ worker's jobs commit on sessions of their own
def test_a_message_that_cannot_be_built_fails_once_and_agents_see_it(app, client, request_at, login, smtp):
    from app.outbox.jobs import deliver_outbox_message, sweep_outbox
    from tests.notifications.test_request_notifications import later

    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("exea")
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.scalars(select(Ticket)).one()
        # A row written before summaries were kept on one line, and an address no mailer accepts.
        broken = [
            OutboxMessage(
                kind="ticket_update",
                recipient="customer@example.com",
                ticket_id=ticket.id,
                subject="Awaria\r\nBcc: victim@example.org",
                body_text="x",
                headers={},
                idempotency_key="broken-subject",
            ),
            OutboxMessage(
                kind="ticket_update",
                recipient="not an address <<@>>\n",
                ticket_id=ticket.id,
                subject="Awaria",
                body_text="x",
                headers={"X-Note": "a\nb"},
                idempotency_key="broken-address",
            ),
        ]
        db.session.add_all(broken)
        db.session.commit()
        ids = [m.id for m in broken]
        results = [deliver_outbox_message(message_id) for message_id in ids]
        db.session.commit()  # the job's boundary (AppJob)
    assert results[1] == "failed"
    with app.app_context(), all_tenants():
        first, second = (db.session.get(OutboxMessage, i) for i in ids)
        # The first is sent with its subject on one line; the second can never be: failed, not retried.
        assert first.status == "sent"
        assert second.status == "failed" and second.last_error
        assert sweep_outbox(later(600)) == 0
        events = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "email_failed")).all()
        assert len(events) == 1
    assert not any("victim" in rcpt for _s, rcpts, _m in smtp.messages for rcpt in rcpts)
    as_(client, login, "exea", "agent")
    page = client.get(portal_url("exea", f"/requests/{ref}")).get_data(as_text=True)
    assert "not an address" in page


@pytest.mark.parametrize("folder", ["Beérkezett üzenetek", "Doručená pošta"])
def test_a_non_ascii_imap_folder_is_polled(app, make_tenant, make_user, folder, dovecot, imap):
    from app.mailin.imap import encode_folder_name
    from app.mailin.jobs import poll_mailbox
    from app.mailin.mailboxes import set_mailbox
    from tests.mailin.conftest import SUPPORT, new_message
    from tests.mailin.test_imap import PASSWORD, USER

    encoded = '"' + encode_folder_name(folder) + '"'
    imap.create(encoded)
    try:
        tenant = make_tenant("targito")
        make_user(tenant, "customer@example.com")
        imap.append(
            encoded,
            None,
            None,
            new_message(
                sender="customer@example.com", to=SUPPORT["targito"], subject="Nový požadavek", body="Dobrý den"
            ).as_bytes(),
        )
        with app.app_context(), tenant_scope(tenant.id):
            mailbox_id = set_mailbox(
                host="127.0.0.1", port=dovecot["port"], security="none", username=USER, password=PASSWORD, folder=folder
            ).id
            assert poll_mailbox(mailbox_id) == {"stored": 1, "duplicates": 0, "left": 0}
    finally:
        imap.select("INBOX")
        imap.delete(encoded)


def test_the_mailbox_test_connection_opens_a_non_ascii_folder(
    app, client, make_tenant, make_user, login, dovecot, imap
):
    from tests.admin.test_console import _setup, url
    from tests.mailin.test_imap import PASSWORD, USER

    from app.mailin.imap import encode_folder_name

    encoded = '"' + encode_folder_name("Doručená pošta") + '"'
    imap.create(encoded)
    try:
        _setup(make_tenant, make_user, login)
        page = client.post(
            url("/email/mailboxes"),
            data={
                "host": "127.0.0.1",
                "port": str(dovecot["port"]),
                "security": "none",
                "username": USER,
                "password": PASSWORD,
                "folder": "Doručená pošta",
                "action": "test",
            },
        )
        assert page.status_code == 200, page.get_data(as_text=True)
    finally:
        imap.select("INBOX")
        imap.delete(encoded)


def test_absurd_numbers_in_console_forms_are_refused_with_a_reason(app, client, make_tenant, make_user, login):
    import time

    from tests.admin.test_console import _setup, url

    _setup(make_tenant, make_user, login)
    for value in (HUGE, "abc", "²", "-1"):
        started = time.monotonic()
        response = client.post(
            url("/forms/request/fields/new"),
            data={"type": "select", "label.cs": "Volba", "label.en": "Choice", "option_rows": value},
        )
        assert response.status_code < 500 and time.monotonic() - started < 10, value
        for path, data in (
            ("/notifications", {"batch_seconds": value}),
            ("/email", {"email_rate_per_hour": value, "max_email_mb": value}),
            (
                "/email/mailboxes",
                {
                    "host": "imap.example.com",
                    "port": value,
                    "security": "ssl",
                    "username": "u",
                    "password": "p",
                    "action": "test",
                },
            ),
        ):
            response = client.post(url(path), data=data)
            assert response.status_code < 500, (path, value, response.status_code)
        assert client.get(portal_url("targito", f"/admin/security?before={value}")).status_code < 500


def test_a_reply_address_with_an_absurd_request_number_is_just_a_new_message(app, make_tenant, make_user, ingest_raw):
    from tests.mailin.conftest import SUPPORT, new_message

    tenant = make_tenant("targito")
    make_user(tenant, "customer@example.com")
    for number in (HUGE, "²", "2147483648"):
        local, domain = SUPPORT["targito"].split("@")
        message = new_message(
            sender="customer@example.com", to=f"{local}+r{number}-abcdef@{domain}", subject="Dotaz", body="Dobrý den"
        )
        row = ingest_raw(tenant, message)
        assert row["outcome"] != "failed", row


def test_a_message_whose_delivery_keeps_crashing_is_given_up(app, request_at):
    """A row left in 'sending' (the worker died mid-way) is retried, but not forever."""
    from datetime import timedelta

    from app.db_types import utcnow
    from app.outbox.jobs import MAX_ATTEMPTS, sweep_outbox

    tenant, ref = request_at("exea")
    with app.app_context(), tenant_scope(tenant.id):
        row = OutboxMessage(
            kind="ticket_update",
            recipient="customer@example.com",
            subject="x",
            body_text="x",
            headers={},
            idempotency_key="crashing",
            status="sending",
            attempts=MAX_ATTEMPTS,
            next_attempt_at=utcnow() - timedelta(hours=1),
        )
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    with app.app_context():
        sweep_outbox()
    with app.app_context(), all_tenants():
        assert db.session.get(OutboxMessage, row_id).status == "failed"


def test_a_host_name_with_a_nul_is_refused_without_a_server_error(app, client, make_tenant, make_user, login):
    from tests.admin.test_console import _setup, url

    _setup(make_tenant, make_user, login)
    response = client.post(
        url("/email/mailboxes"),
        data={
            "host": "imap\x00.example.com",
            "port": "993",
            "security": "ssl",
            "username": "u",
            "password": "p",
            "action": "test",
        },
    )
    assert response.status_code == 422


def test_encoded_words_cannot_smuggle_a_line_break_into_a_header(app, request_at):
    """The mail library decodes RFC 2047 encoded words in header values: the sanitising must see what
    it will read."""
    from app.db_types import utcnow
    from app.outbox.jobs import build_email
    from app.tenancy.models import Tenant

    tenant, ref = request_at("exea")
    with app.app_context(), tenant_scope(tenant.id):
        for subject in ("=?utf-8?q?Hello=0D=0AX-Injected:_yes?=", "=?utf-8?b?SGVsbG8NClgtSW5qZWN0ZWQ6IHllcw==?="):
            message = OutboxMessage(
                id=1,
                kind="x",
                recipient="customer@example.com",
                subject=subject,
                body_text="x",
                headers={"X-Note": subject},
                idempotency_key="x",
            )
            message.created_at = utcnow()
            email = build_email(message, db.session.get(Tenant, tenant.id))
            head = email.as_bytes().split(b"\n\n", 1)[0].decode(errors="replace").lower()
            assert "\nx-injected:" not in head and email["X-Injected"] is None
