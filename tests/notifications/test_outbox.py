"""E-mails go through the outbox: delivered by an RQ job over real SMTP, never lost, never sent twice."""

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.unit_of_work import unit
from app.jobs import AppJob, get_queue
from app.outbox.jobs import deliver_outbox_message, sweep_outbox
from app.outbox.models import OutboxMessage
from app.tenancy.scoping import all_tenants, tenant_scope
from tests.conftest import portal_url

# The outbox sweep picks due rows and claims them under each engine's locking; an in-process RQ
# worker delivers them, each job committing on a session of its own.
pytestmark = [pytest.mark.both_databases, pytest.mark.real_commits]


def _work(app):
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection, job_class=AppJob).work(burst=True)


def _messages(app):
    with app.app_context(), all_tenants():
        return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _register(client):
    return client.post(
        portal_url("flexinform", "/register"),
        data={
            "name": "Kiss Anna",
            "email": "anna@example.com",
            "password": "hosszu-jelszo-1",
            "confirm": "hosszu-jelszo-1",
        },
    )


def test_a_queued_email_is_delivered_over_smtp_by_the_worker(app, client, make_tenant, smtp):
    app.config["MAIL_URL"] = smtp.url
    make_tenant("flexinform")
    _register(client)
    _work(app)
    [(sender, recipients, message)] = smtp.messages
    assert recipients == ["anna@example.com"]
    assert message["From"] == "Flexinform <support@flexinform.example>"
    assert message["Message-ID"].startswith("<outbox-")
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "http://flexinform.portal.test/verify/" in text and "http://flexinform.portal.test/verify/" in html
    [row] = _messages(app)
    assert row.status == "sent" and row.sent_at is not None


def test_smtp_outage_delays_mail_but_loses_nothing_and_never_sends_twice(app, client, make_tenant, smtp):
    app.config["MAIL_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    flexinform = make_tenant("flexinform")
    _register(client)
    _work(app)
    [row] = _messages(app)
    assert row.status == "pending" and row.attempts == 1 and "127.0.0.1" in row.last_error
    assert smtp.messages == []
    # The server is back; the sweep re-enqueues what is due.
    app.config["MAIL_URL"] = smtp.url
    with app.app_context(), all_tenants():
        db.session.get(OutboxMessage, row.id).next_attempt_at = row.created_at
        db.session.commit()
    with app.app_context():
        assert sweep_outbox() == 1
    _work(app)
    assert len(smtp.messages) == 1
    # Delivering the same message again (a duplicate job, a second worker) sends nothing.
    with app.app_context(), tenant_scope(flexinform.id):
        assert deliver_outbox_message(row.id) == "skipped"
    with app.app_context():
        assert sweep_outbox() == 0
    assert len(smtp.messages) == 1


def test_redis_outage_at_commit_loses_no_mail(app_config, make_tenant, smtp, redis_server):
    """The change commits with its outbox row even when the job cannot be enqueued."""
    from app import create_app

    broken = create_app(dict(app_config, REDIS_URL="redis://127.0.0.1:9/0", MAIL_URL=smtp.url))
    make_tenant("flexinform")
    response = _register(broken.test_client())
    assert response.status_code == 200
    [row] = _messages(broken)
    assert row.status == "pending"
    # Later, with Redis back, the periodic sweep finds it.
    ok = create_app(dict(app_config, MAIL_URL=smtp.url))
    with ok.app_context():
        assert sweep_outbox() == 1
    _work(ok)
    assert len(smtp.messages) == 1


def test_emails_are_written_in_the_recipients_language(app, client, make_tenant, outbox):
    from tests.conftest import translated

    make_tenant("crmservice")
    make_tenant("targito")
    with app.app_context():
        from flask import g

        from app.accounts.registration import invite
        from app.tenancy.resolution import get_tenant_context

        for slug in ("crmservice", "targito"):
            with app.test_request_context(portal_url(slug)), unit():
                g.tenant = get_tenant_context(slug)
                with tenant_scope(g.tenant.id):
                    invite(f"someone@{slug}-customer.example")
    mails = {to.split("@")[1]: (subject, text) for to, subject, text, _html, _kind in outbox()}
    assert (
        translated(app, "fi", "You are invited to the %(name)s customer portal", name="CRM-service")
        == mails["crmservice-customer.example"][0]
    )
    assert (
        translated(app, "cs", "You are invited to the %(name)s customer portal", name="Targito")
        == mails["targito-customer.example"][0]
    )
