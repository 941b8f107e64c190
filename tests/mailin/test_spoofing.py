"""Inbound mail spoofing: a reply becomes a comment by its sender only when the sender is confirmed
(the reply address we signed for them, or their participation plus the headers of an e-mail we sent
to them). Anything else that claims a request is held for the request's agents, never lost, and the
sender hears that it will be reviewed."""

import pytest
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from app.extensions import db
from app.mailin.models import InboundMessage
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from tests.conftest import portal_url
from tests.mailin.conftest import SUPPORT, comments_of, reply_message
from tests.tickets.test_conversation import as_

# An in-process RQ worker runs the jobs, each committing on a session of its own (not nested in the test's).
pytestmark = pytest.mark.real_commits


def _tagged(sender: str, mail, body: str, *, to: str) -> EmailMessage:
    """What a spoofer writes: any From, the request's subject tag, no reply address, no thread."""
    return reply_message(mail, sender=sender, body=body, keys=("subject_tag",), to=to)


def _outbox_kinds(outbox, address):
    return [kind for to, _subject, _text, _html, kind in outbox() if to == address]


def _security_events(app, tenant, kind="inbound_held"):
    from app.security.models import SecurityEvent

    with app.app_context():
        return [
            (e.email, e.params)
            for e in db.session.scalars(
                select(SecurityEvent)
                .where(SecurityEvent.tenant_id == tenant.id, SecurityEvent.kind == kind)
                .order_by(SecurityEvent.id)
            )
        ]


def _ticket_id(app, tenant, reference):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(Ticket.id).where(Ticket.reference == reference)).scalar_one()


def _held_row(app, tenant, inbound_id):
    with app.app_context(), tenant_scope(tenant.id):
        row = db.session.get(InboundMessage, inbound_id)
        return {
            "outcome": row.outcome,
            "hold_reason": row.hold_reason,
            "comment_id": row.comment_id,
            "reviewed_by_id": row.reviewed_by_id,
        }


def _share(app, client, login, slug, reference, email):
    """The agent shares the request with ``email`` by name (a participant)."""
    as_(client, login, slug, "agent")
    assert (
        client.post(portal_url(slug, f"/requests/{reference}/participants"), data={"email": email}).status_code == 302
    )
    client.post(portal_url(slug, "/logout"))


def test_a_spoofed_sender_with_the_subject_tag_is_held_answered_and_accepted_by_an_agent(
    app, client, login, notified, ingest_raw, outbox
):
    tenant, ref, mail = notified("flexinform", locale="hu")
    before = comments_of(app, tenant, ref)
    spoof = _tagged(
        "Vevő Vera <customer@example.com>", mail, "Kérem, zárják le és töröljék az adataimat.", to=SUPPORT["flexinform"]
    )
    result = ingest_raw(tenant, spoof)
    assert result["outcome"] == "held" and result["ticket_id"] == _ticket_id(app, tenant, ref)
    assert result["comment_id"] is None and comments_of(app, tenant, ref) == before
    assert _held_row(app, tenant, result["id"])["hold_reason"] == "subject_tag"
    # The address in From hears, in its language, that the message arrived and will be reviewed.
    [(to, subject, text, html, kind)] = [r for r in outbox() if r[4] == "mailin_held"]
    assert to == "customer@example.com" and 'lang="hu"' in html
    assert [email for email, _params in _security_events(app, tenant)] == ["customer@example.com"]

    # The request's agent sees it on the request page, with its text, and adds it as the sender's comment.
    as_(client, login, "flexinform", "agent")
    page = client.get(portal_url("flexinform", f"/requests/{ref}")).get_data(as_text=True)
    assert "Kérem, zárják le és töröljék az adataimat." in page and "customer@example.com" in page
    accept = f"/requests/{ref}/held/{result['id']}/accept"
    assert accept in page
    response = client.post(portal_url("flexinform", accept), data={"as": "comment"})
    assert response.status_code == 302
    assert comments_of(app, tenant, ref)[-1] == (
        "customer@example.com",
        "Kérem, zárják le és töröljék az adataimat.",
        "email",
    )
    row = _held_row(app, tenant, result["id"])
    assert row["outcome"] == "comment" and row["comment_id"] is not None and row["reviewed_by_id"] is not None
    page = client.get(portal_url("flexinform", f"/requests/{ref}")).get_data(as_text=True)
    assert accept not in page  # reviewed: no longer waiting


def test_customers_never_see_held_messages_nor_review_them(app, client, login, notified, ingest_raw):
    tenant, ref, mail = notified("targito", locale="cs")
    result = ingest_raw(tenant, _tagged("customer@example.com", mail, "Podvržená zpráva.", to=SUPPORT["targito"]))
    assert result["outcome"] == "held"
    as_(client, login, "targito", "customer")
    assert "Podvržená zpráva." not in client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    for action in ("accept", "discard"):
        assert (
            client.post(
                portal_url("targito", f"/requests/{ref}/held/{result['id']}/{action}"), data={"as": "comment"}
            ).status_code
            == 404
        )
    assert _held_row(app, tenant, result["id"])["outcome"] == "held"


def test_an_agent_adds_a_held_message_as_an_internal_note_or_discards_it(app, client, login, notified, ingest_raw):
    tenant, ref, mail = notified("targito", locale="cs")
    first = ingest_raw(tenant, _tagged("neznamy@jinde.example", mail, "Jsem z účetního.", to=SUPPORT["targito"]))
    second = ingest_raw(tenant, _tagged("neznamy@jinde.example", mail, "Pošlete heslo.", to=SUPPORT["targito"]))
    assert first["outcome"] == second["outcome"] == "held"
    assert _held_row(app, tenant, first["id"])["hold_reason"] == "not_participant"
    as_(client, login, "targito", "agent")
    assert (
        client.post(
            portal_url("targito", f"/requests/{ref}/held/{first['id']}/accept"), data={"as": "internal"}
        ).status_code
        == 302
    )
    assert client.post(portal_url("targito", f"/requests/{ref}/held/{second['id']}/discard")).status_code == 302
    bodies = [body for _who, body, _channel in comments_of(app, tenant, ref)]
    assert "Jsem z účetního." in bodies and "Pošlete heslo." not in bodies
    with app.app_context(), tenant_scope(tenant.id):
        from app.tickets.models import Comment

        note = db.session.get(Comment, _held_row(app, tenant, first["id"])["comment_id"])
        assert note.is_internal
    assert _held_row(app, tenant, second["id"])["outcome"] == "discarded"
    as_(client, login, "targito", "customer")
    assert "Jsem z účetního." not in client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)


def test_a_flood_of_spoofed_mail_gets_one_guidance_answer_per_sender_an_hour(app, notified, ingest_raw, outbox):
    tenant, ref, mail = notified("targito", locale="cs")
    results = [
        ingest_raw(tenant, _tagged("obet@jinde.example", mail, f"Spam {n}", to=SUPPORT["targito"])) for n in range(4)
    ]
    assert [r["outcome"] for r in results] == ["held"] * 4
    assert _outbox_kinds(outbox, "obet@jinde.example") == ["mailin_held"]
    assert len(_security_events(app, tenant)) == 4


def test_a_genuine_reply_through_the_signed_address_becomes_a_comment(app, notified, ingest_raw):
    tenant, ref, mail = notified("targito", locale="cs")
    reply = reply_message(mail, sender="customer@example.com", body="Posílám log.", keys=("reply_address",))
    result = ingest_raw(tenant, reply)
    assert result["outcome"] == "comment", result
    assert comments_of(app, tenant, ref)[-1] == ("customer@example.com", "Posílám log.", "email")


def test_a_participants_reply_with_our_message_id_becomes_a_comment(app, notified, ingest_raw):
    tenant, ref, mail = notified("exea", locale="pl")
    reply = reply_message(
        mail, sender="customer@example.com", body="Przesyłam log.", keys=("threading",), to=SUPPORT["exea"]
    )
    result = ingest_raw(tenant, reply)
    assert result["outcome"] == "comment", result
    assert comments_of(app, tenant, ref)[-1] == ("customer@example.com", "Przesyłam log.", "email")


def test_a_participants_reply_with_only_the_subject_tag_is_held(app, client, login, notified, ingest_raw, outbox):
    tenant, ref, mail = notified("exea", locale="pl")
    _share(app, client, login, "exea", ref, "kolega@example.com")
    before = comments_of(app, tenant, ref)
    for sender in ("customer@example.com", "kolega@example.com"):
        result = ingest_raw(tenant, _tagged(sender, mail, f"Tylko temat od {sender}.", to=SUPPORT["exea"]))
        assert result["outcome"] == "held" and result["ticket_id"] == _ticket_id(app, tenant, ref)
        assert _held_row(app, tenant, result["id"])["hold_reason"] == "subject_tag"
    assert comments_of(app, tenant, ref) == before


def test_a_guessed_message_id_confirms_no_one(app, notified, ingest_raw):
    """Our Message-IDs carry a signature: numbering alone (outbox-<tenant>-<row>) is guessable, so a
    participant's address plus a guessed id is not proof that the e-mail reached them."""
    tenant, ref, mail = notified("exea", locale="pl")
    genuine = mail["Message-ID"].strip("<>")
    local, domain = genuine.split("@")
    unsigned, signature = local.split(".")
    for guessed in (f"<{unsigned}@{domain}>", f"<{unsigned}.{'0' * len(signature)}@{domain}>"):
        reply = reply_message(mail, sender="customer@example.com", body="Zgadnięty.", keys=(), to=SUPPORT["exea"])
        reply["In-Reply-To"] = guessed
        reply["References"] = guessed
        result = ingest_raw(tenant, reply)
        assert result["outcome"] == "held", (guessed, result)


def test_threading_headers_of_a_message_sent_to_someone_else_confirm_no_one(app, client, login, notified, ingest_raw):
    tenant, ref, mail = notified("exea", locale="pl")
    _share(app, client, login, "exea", ref, "kolega@example.com")
    # A participant, but the e-mail the headers name went to the requester, not to them.
    reply = reply_message(mail, sender="kolega@example.com", body="Nie moje.", keys=("threading",), to=SUPPORT["exea"])
    result = ingest_raw(tenant, reply)
    assert result["outcome"] == "held"
    assert _held_row(app, tenant, result["id"])["hold_reason"] == "unconfirmed_thread"


def test_a_strangers_reply_to_a_forwarded_notification_is_held(app, notified, make_user, ingest_raw, outbox):
    tenant, ref, mail = notified("targito", locale="cs")
    make_user(tenant, "kolega@jinafirma.example", name="Kolega")
    before = comments_of(app, tenant, ref)
    # The customer forwarded the notification; the stranger answers it with every key it carries.
    for sender in ("Cizí Člověk <cizi@jinde.example>", "kolega@jinafirma.example"):
        result = ingest_raw(tenant, reply_message(mail, sender=sender, body="Přeposláno mi, odpovídám."))
        assert result["outcome"] == "held" and result["ticket_id"] == _ticket_id(app, tenant, ref)
        assert _held_row(app, tenant, result["id"])["hold_reason"] == "not_participant"
    assert comments_of(app, tenant, ref) == before
    assert _outbox_kinds(outbox, "cizi@jinde.example") == ["mailin_held"]


def test_a_forwarded_reply_address_does_not_let_its_reader_post_as_another_participant(
    app, client, login, notified, ingest_raw
):
    tenant, ref, mail = notified("exea", locale="pl")
    _share(app, client, login, "exea", ref, "kolega@example.com")
    # The requester's reply address (signed for the requester), used with a participant's address in From.
    reply = reply_message(mail, sender="kolega@example.com", body="Podszywam się.", keys=("reply_address",))
    result = ingest_raw(tenant, reply)
    assert result["outcome"] == "held"
    assert _held_row(app, tenant, result["id"])["hold_reason"] == "other_recipient"
    assert "Podszywam się." not in [body for _who, body, _channel in comments_of(app, tenant, ref)]


def test_reply_addresses_of_e_mails_already_sent_still_work_for_participants_only(app, notified, make_user, ingest_raw):
    """Before reply addresses were signed per recipient they were signed per request: a participant's
    reply to such an e-mail still lands; anyone else's is held."""
    import hashlib
    import hmac

    tenant, ref, mail = notified("targito", locale="cs")
    ticket_id = _ticket_id(app, tenant, ref)
    signature = hmac.new(
        app.config["SECRET_KEY"].encode(), f"reply:{tenant.id}:{ticket_id}".encode(), hashlib.sha256
    ).hexdigest()[:12]
    old_address = f"support+r{ticket_id}-{signature}@targito.example"
    make_user(tenant, "jiny@example.com", name="Jiný")

    def old_reply(sender, body):
        message = EmailMessage()
        message["From"], message["To"] = sender, old_address
        message["Subject"] = "Re: " + str(mail["Subject"]).split("] ", 1)[-1]
        message["Message-ID"] = make_msgid(domain="client.example")
        message.set_content(body)
        return message

    assert ingest_raw(tenant, old_reply("customer@example.com", "Stará adresa."))["outcome"] == "comment"
    assert comments_of(app, tenant, ref)[-1] == ("customer@example.com", "Stará adresa.", "email")
    held = ingest_raw(tenant, old_reply("jiny@example.com", "Cizí se starou adresou."))
    assert held["outcome"] == "held" and held["ticket_id"] == ticket_id


def test_a_new_message_without_a_reference_still_creates_a_request(app, make_tenant, make_user, ingest_raw):
    from tests.mailin.conftest import new_message

    tenant = make_tenant("targito")
    make_user(tenant, "customer@example.com", name="Vera")
    result = ingest_raw(
        tenant,
        new_message(
            sender="customer@example.com", to=SUPPORT["targito"], subject="Nový problém", body="Nefunguje tisk."
        ),
    )
    assert result["outcome"] == "created"


def test_a_signed_reply_address_survives_a_rotation_of_the_secret_key(app, notified, ingest_raw):
    tenant, ref, mail = notified("targito", locale="cs")
    old = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = "a-brand-new-secret-key-after-rotation", [old]
    reply = reply_message(mail, sender="customer@example.com", body="Po rotaci klíče.", keys=("reply_address",))
    assert ingest_raw(tenant, reply)["outcome"] == "comment"
    assert comments_of(app, tenant, ref)[-1] == ("customer@example.com", "Po rotaci klíče.", "email")


def test_a_stranger_cannot_be_made_the_author_and_a_review_says_how(app, client, login, notified, ingest_raw):
    tenant, ref, mail = notified("targito", locale="cs")
    result = ingest_raw(tenant, _tagged("cizi@jinde.example", mail, "Kdo jsem?", to=SUPPORT["targito"]))
    as_(client, login, "targito", "agent")
    accept = portal_url("targito", f"/requests/{ref}/held/{result['id']}/accept")
    assert client.post(accept).status_code == 400  # say how: as the sender's comment or as a note
    assert client.post(accept, data={"as": "comment"}).status_code == 302  # refused: no such author here
    assert _held_row(app, tenant, result["id"])["outcome"] == "held"
    assert "Kdo jsem?" not in [body for _who, body, _channel in comments_of(app, tenant, ref)]
    original = client.get(portal_url("targito", f"/requests/{ref}/held/{result['id']}/original"))
    assert original.status_code == 200 and original.mimetype == "message/rfc822"


def test_a_flood_of_held_mail_is_shown_a_page_at_a_time_and_counted(
    app, client, login, notified, ingest_raw, monkeypatch
):
    import app.mailin.views as views

    monkeypatch.setattr(views, "HELD_SHOWN", 2)
    tenant, ref, mail = notified("targito")
    for n in range(3):
        ingest_raw(tenant, _tagged(f"flood{n}@jinde.example", mail, f"Záplava {n}.", to=SUPPORT["targito"]))
    as_(client, login, "targito", "agent")
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    assert "Záplava 0." in page and "Záplava 1." in page and "Záplava 2." not in page
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale("cs"):  # the agent reads Targito's language
        more = ngettext(
            "%(num)d more e-mail is waiting; it is shown here once these have been reviewed.",
            "%(num)d more e-mails are waiting; they are shown here once these have been reviewed.",
            1,
        )
    assert more in page
