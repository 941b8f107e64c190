"""Inbound e-mail as customers and agents notice it: replies to real notification e-mails become
comments with only the new text, new e-mails become requests, and mail that must not be answered is
recorded and left alone."""

from email.utils import make_msgid

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.mailin.models import InboundMessage
from app.outbox.models import OutboxMessage
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Attachment, Participant, Ticket, TicketEvent
from app.workflow.models import Status
from tests.conftest import portal_url, translated
from tests.mailin.conftest import SUPPORT, comments_of, inbound_rows, new_message, quoted_reply, reply_message, text_of
from tests.tickets.test_conversation import as_, status_of

# An in-process RQ worker runs the jobs, each committing on a session of its own (not nested in the test's).
pytestmark = pytest.mark.real_commits

NEW_TEXT = {
    "hu": "Köszönöm, csatolom a naplót. A mentés továbbra sem működik.\n\nÜdvözlettel:\nVera",
    "fi": "Kiitos, liitän lokitiedoston. Tallennus ei edelleenkään toimi.\n\nTerveisin\nVera",
    "cs": "Děkuji, posílám log. Ukládání stále nefunguje.\n\nS pozdravem\nVěra",
    "pl": "Dziękuję, przesyłam log. Zapisywanie nadal nie działa.\n\nPozdrawiam\nWiera",
    "en": "Thanks, the log is attached. Saving still does not work.\n\nBest regards,\nVera",
}
SIGNATURE = "-- \nVevő Vera\n+36 1 234 5678"


def _set_status(app, tenant, reference, key):
    from app.tickets.transitions import move_to_status

    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        move_to_status(ticket, db.session.execute(select(Status).where(Status.key == key)).scalar_one())
        db.session.commit()


def _outbox_kinds(outbox, address):
    return [kind for to, _subject, _text, _html, kind in outbox() if to == address]


@pytest.mark.parametrize(
    "slug,lang",
    [
        ("flexinform", "hu"),
        ("crmservice", "fi"),
        ("festum", "fi"),
        ("targito", "cs"),
        ("exea", "pl"),
        ("targito", "en"),
    ],
)
def test_a_reply_to_a_notification_becomes_a_comment_with_only_the_new_text(app, notified, ingest_raw, slug, lang):
    tenant, ref, mail = notified(slug, locale=lang)
    body = quoted_reply(NEW_TEXT[lang] + "\n\n" + SIGNATURE, text_of(mail), lang=lang, support=SUPPORT[slug])
    result = ingest_raw(tenant, reply_message(mail, sender="Vevő Vera <Customer@Example.com>", body=body))
    assert result["outcome"] == "comment"
    assert comments_of(app, tenant, ref)[-1] == ("customer@example.com", NEW_TEXT[lang], "email")


# A subject tag alone never confirms who wrote (tests/mailin/test_spoofing.py): a mail client that
# answers to the plain support address carries the tag and the threading headers of our e-mail.
@pytest.mark.parametrize("keys", [("reply_address",), ("threading",), ("subject_tag", "threading")])
def test_each_routing_key_alone_finds_the_request(app, notified, ingest_raw, keys):
    tenant, ref, mail = notified("targito", locale="cs")
    reply = reply_message(
        mail,
        sender="customer@example.com",
        body=quoted_reply("Posílám log.", text_of(mail), lang="cs", support=SUPPORT["targito"]),
        keys=keys,
        to=SUPPORT["targito"],
    )
    result = ingest_raw(tenant, reply)
    assert result["outcome"] == "comment", result
    assert comments_of(app, tenant, ref)[-1] == ("customer@example.com", "Posílám log.", "email")


def test_festum_threads_by_its_own_subject_tag(app, notified, ingest_raw):
    tenant, ref, mail = notified("festum", locale="fi")
    assert "[Festum #" in mail["Subject"]
    reply = reply_message(
        mail,
        sender="customer@example.com",
        body="Kiitos, nyt toimii.",
        keys=("subject_tag", "threading"),
        to=SUPPORT["festum"],
    )
    assert ingest_raw(tenant, reply)["outcome"] == "comment"
    assert comments_of(app, tenant, ref)[-1][1] == "Kiitos, nyt toimii."
    # The tag alone still finds the request, where the reply waits for an agent (its sender unconfirmed).
    tagged = reply_message(
        mail, sender="customer@example.com", body="Vain aihe.", keys=("subject_tag",), to=SUPPORT["festum"]
    )
    result = ingest_raw(tenant, tagged)
    with app.app_context(), tenant_scope(tenant.id):
        ticket_id = db.session.execute(select(Ticket.id).where(Ticket.reference == ref)).scalar_one()
    assert result["outcome"] == "held" and result["ticket_id"] == ticket_id


def test_a_new_email_from_a_known_contact_creates_a_request_with_its_files(
    app, make_tenant, make_user, ingest_raw, outbox
):
    tenant = make_tenant("exea")
    make_user(tenant, "kontakt@firma.pl", name="Jan Kowalski", locale="pl")
    message = new_message(
        sender="Jan Kowalski <kontakt@firma.pl>",
        to=SUPPORT["exea"],
        subject="Fwd: Drukarka nie drukuje faktur",
        body="Dzień dobry,\n\ndrukarka nie drukuje faktur od rana.\n\nPozdrawiam\nJan",
    )
    message.add_attachment(
        b"%PDF-1.4 faktura", maintype="application", subtype="pdf", filename="Faktura – źródło ÁÉ.pdf"
    )
    message.add_attachment(
        b"\x89PNG\r\n\x1a\n-image-",
        maintype="image",
        subtype="png",
        filename="zrzut ekranu.png",
        disposition="inline",
        cid="<img1@client.example>",
    )
    result = ingest_raw(tenant, message)
    assert result["outcome"] == "created"
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.get(Ticket, result["ticket_id"])
        assert (ticket.summary, ticket.channel, ticket.requester.email) == (
            "Drukarka nie drukuje faktur",
            "email",
            "kontakt@firma.pl",
        )
        assert ticket.description == "Dzień dobry,\n\ndrukarka nie drukuje faktur od rana.\n\nPozdrawiam\nJan"
        assert ticket.request_type.key == "support"
        files = sorted(db.session.scalars(select(Attachment.filename).where(Attachment.ticket_id == ticket.id)))
        reference = ticket.reference
    assert files == ["Faktura – źródło ÁÉ.pdf", "zrzut ekranu.png"]
    # The sender hears the request's number, with the tag that threads their replies.
    [(to, subject, text, _html, kind)] = [row for row in outbox() if row[0] == "kontakt@firma.pl"]
    assert kind == "mailin_request_received" and subject.startswith(f"[{reference}]") and reference in text


def test_unknown_sender_gets_an_account_at_festum(app, make_tenant, ingest_raw, outbox):
    tenant = make_tenant("festum")
    result = ingest_raw(
        tenant,
        new_message(
            sender="Uusi Asiakas <uusi@asiakas.fi>",
            to=SUPPORT["festum"],
            subject="Lasku ei lähde",
            body="Hei, lasku ei lähde eteenpäin.",
        ),
    )
    assert result["outcome"] == "created" and "account created" in result["reason"]
    kinds = _outbox_kinds(outbox, "uusi@asiakas.fi")
    assert "account_created" in kinds and "mailin_request_received" in kinds  # the set-password link, the number
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.get(Ticket, result["ticket_id"])
        assert ticket.requester.email == "uusi@asiakas.fi" and ticket.channel == "email"
        number = ticket.number
    subjects = [s for to, s, *_ in outbox() if to == "uusi@asiakas.fi"]
    assert f"[Festum #{number}] Lasku ei lähde" in subjects


def test_unknown_sender_is_refused_politely_at_invite_only_exea(app, make_tenant, ingest_raw, outbox):
    from app.accounts.models import User

    tenant = make_tenant("exea")
    result = ingest_raw(
        tenant, new_message(sender="obcy@gdzies.pl", to=SUPPORT["exea"], subject="Pytanie", body="Dzień dobry")
    )
    assert result["outcome"] == "rejected" and result["ticket_id"] is None
    assert _outbox_kinds(outbox, "obcy@gdzies.pl") == ["mailin_unknown_sender"]
    # A no-reply address is never answered.
    result = ingest_raw(
        tenant, new_message(sender="no-reply@gdzies.pl", to=SUPPORT["exea"], subject="Pytanie", body="Dzień dobry")
    )
    assert result["outcome"] == "rejected" and _outbox_kinds(outbox, "no-reply@gdzies.pl") == []
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(User.email)).all() == []


@pytest.mark.parametrize("slug,final,lang", [("flexinform", "kesz", "hu"), ("targito", "done", "cs")])
def test_a_reply_to_a_closed_request_is_refused_with_an_explanation(
    app, notified, ingest_raw, outbox, slug, final, lang
):
    tenant, ref, mail = notified(slug, locale=lang)
    _set_status(app, tenant, ref, final)
    before = comments_of(app, tenant, ref)
    result = ingest_raw(tenant, reply_message(mail, sender="customer@example.com", body="Még mindig hibás."))
    assert result["outcome"] == "rejected" and "closed" in result["reason"]
    assert comments_of(app, tenant, ref) == before and status_of(app, tenant, ref) == final
    [(to, subject, text, html, kind)] = [r for r in outbox() if r[4] == "mailin_closed_request"]
    assert to == "customer@example.com" and ref in text and ref in subject
    assert f'lang="{lang}"' in html  # in the sender's language


def test_flexinform_reply_by_email_to_a_resolved_request_moves_it_to_folyamatban(app, notified, ingest_raw):
    tenant, ref, mail = notified("flexinform", locale="hu")
    _set_status(app, tenant, ref, "megoldva")
    result = ingest_raw(tenant, reply_message(mail, sender="customer@example.com", body="Mégsem jó, újra hibás."))
    assert result["outcome"] == "comment"
    assert status_of(app, tenant, ref) == "folyamatban"


def test_festum_reply_reopens_a_done_request(app, notified, ingest_raw):
    tenant, ref, mail = notified("festum", locale="fi")
    _set_status(app, tenant, ref, "valmis")
    assert (
        ingest_raw(tenant, reply_message(mail, sender="customer@example.com", body="Ongelma palasi."))["outcome"]
        == "comment"
    )
    assert status_of(app, tenant, ref) == "kasittelyssa"


def test_a_message_fetched_twice_is_stored_once(app, notified, ingest_raw):
    tenant, ref, mail = notified("targito")
    raw = reply_message(mail, sender="customer@example.com", body="Jednou.").as_bytes()
    first, second = ingest_raw(tenant, raw), ingest_raw(tenant, raw)
    assert second["duplicate"] and second["id"] == first["id"] and first["outcome"] == "comment"
    assert [c[1] for c in comments_of(app, tenant, ref)].count("Jednou.") == 1
    assert len(inbound_rows(app, tenant)) == 1


def test_auto_replies_are_recorded_and_not_answered(app, notified, ingest_raw, outbox):
    tenant, ref, mail = notified("exea", locale="pl")
    before = len(outbox())
    reply = reply_message(
        mail,
        sender="customer@example.com",
        body="Jestem na urlopie do 10 marca.",
        extra_headers={"Auto-Submitted": "auto-replied"},
    )
    result = ingest_raw(tenant, reply)
    assert result["outcome"] == "ignored_auto_reply"
    assert comments_of(app, tenant, ref)[-1][1] != "Jestem na urlopie do 10 marca." and len(outbox()) == before


def _bounce_of(message_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        "To: support@targito.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain='mx.example')}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. The message could not be delivered.\r\n"
        f"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\nTo: {recipient}\r\n"
        "Subject: [TAR-1] x\r\n--B--\r\n"
    ).encode()


def test_a_bounce_of_our_notification_is_shown_on_the_request_and_fails_the_outbox_message(
    app, client, login, notified, ingest_raw, outbox
):
    tenant, ref, mail = notified("targito")
    before = len(outbox())
    result = ingest_raw(tenant, _bounce_of(mail["Message-ID"], "customer@example.com"))
    assert result["outcome"] == "bounce" and result["ticket_id"] is not None
    with app.app_context(), tenant_scope(tenant.id):
        outbox_id = int(mail["Message-ID"].strip("<>").split("@")[0].split(".")[0].split("-")[-1])
        assert db.session.get(OutboxMessage, outbox_id).status == "failed"
        kinds = db.session.scalars(select(TicketEvent.kind).order_by(TicketEvent.id)).all()
    assert kinds[-1] == "email_bounced" and len(outbox()) == before  # nobody answers a bounce
    as_(client, login, "targito", "agent")
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    with app.app_context(), tenant_scope(tenant.id):
        subject = db.session.get(OutboxMessage, outbox_id).subject
    assert (
        str(
            escape(
                translated(
                    app,
                    "cs",
                    "the e-mail “%(subject)s” to %(recipient)s bounced",
                    subject=subject,
                    recipient="customer@example.com",
                )
            )
        )
        in page
    )


def test_a_forged_bounce_naming_a_guessed_message_id_fails_nothing(app, notified, ingest_raw):
    """Anyone can send a "bounce": only a Message-ID we signed may mark an e-mail of ours undelivered."""
    tenant, ref, mail = notified("targito")
    local, domain = mail["Message-ID"].strip("<>").split("@")
    guessed = f"<{local.split('.')[0]}@{domain}>"
    result = ingest_raw(tenant, _bounce_of(guessed, "customer@example.com"))
    assert result["outcome"] == "bounce"
    with app.app_context(), tenant_scope(tenant.id):
        outbox_id = int(local.split(".")[0].split("-")[-1])
        assert db.session.get(OutboxMessage, outbox_id).status == "sent"


def test_a_sender_over_the_rate_limit_is_stored_and_not_answered(app, make_tenant, make_user, ingest_raw, outbox):
    from app.tenancy.definition import load_definition
    from tests.conftest import TENANTS_DIR

    settings = {**load_definition(TENANTS_DIR / "exea")["settings"], "email_rate_per_hour": 3}
    tenant = make_tenant("exea", settings=settings)
    results = [
        ingest_raw(
            tenant, new_message(sender="robot@loop.example", to=SUPPORT["exea"], subject=f"Alert {n}", body="loop")
        )
        for n in range(5)
    ]
    assert [r["outcome"] for r in results] == ["rejected"] * 3 + ["rate_limited"] * 2
    assert len(_outbox_kinds(outbox, "robot@loop.example")) == 3


def test_malformed_mime_is_kept_for_an_agent_and_never_crashes(app, make_tenant, ingest_raw):
    from app.storage import get_storage

    tenant = make_tenant("targito")
    raw = (
        b"From: customer@example.com\r\nTo: support@targito.example\r\nSubject: broken\r\n"
        b"Message-ID: <broken@client.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n"
    )
    result = ingest_raw(tenant, raw)
    assert result["outcome"] == "malformed" and result["reason"]
    with app.app_context():
        assert get_storage().open(result["raw_key"]).read() == raw
    assert ingest_raw(tenant, b"\x00\xff garbage without headers")["outcome"] == "malformed"


def test_a_message_over_the_size_limit_is_refused_politely(app, make_tenant, make_user, ingest_raw, outbox):
    from app.tenancy.definition import load_definition
    from tests.conftest import TENANTS_DIR

    settings = {**load_definition(TENANTS_DIR / "targito")["settings"], "max_email_mb": 1}
    tenant = make_tenant("targito", settings=settings)
    message = new_message(sender="customer@example.com", to=SUPPORT["targito"], subject="Velký log", body="viz log")
    message.add_attachment(
        b"x" * (1024 * 1024 + 10), maintype="application", subtype="octet-stream", filename="log.bin"
    )
    result = ingest_raw(tenant, message)
    assert result["outcome"] == "too_large" and result["ticket_id"] is None
    assert _outbox_kinds(outbox, "customer@example.com") == ["mailin_too_large"]


def test_people_copied_on_a_reply_become_participants_at_flexinform(app, notified, make_user, ingest_raw):
    tenant, ref, mail = notified("flexinform", locale="hu")
    make_user(tenant, "kollega@example.com", name="Kolléga")
    reply = reply_message(
        mail,
        sender="customer@example.com",
        body="Bevontam a kollégámat.",
        cc="Kolléga <kollega@example.com>, ismeretlen@example.com",
    )
    assert ingest_raw(tenant, reply)["outcome"] == "comment"
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        participants = db.session.scalars(select(Participant.user_id).where(Participant.ticket_id == ticket.id)).all()
    assert len(participants) == 1


def test_someone_who_may_not_comment_there_gets_the_tenants_rule_instead(app, notified, make_user, ingest_raw):
    from app.outbox.links import reply_address

    tenant, ref, mail = notified("exea", locale="pl")
    make_user(tenant, "inny@example.com", name="Inny")
    # Inny answers an e-mail we once sent them about the request (its reply address is signed for
    # them), but may not comment there: the tenant's rule for new messages applies.
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        their_address = reply_address(SUPPORT["exea"], ticket, "inny@example.com")
    reply = reply_message(
        mail, sender="inny@example.com", body="Ja też mam ten problem.", keys=("subject_tag",), to=their_address
    )
    result = ingest_raw(tenant, reply)
    assert result["outcome"] == "created" and "may not comment" in result["reason"]
    assert "Ja też mam ten problem." not in [c[1] for c in comments_of(app, tenant, ref)]


def test_a_reply_token_of_another_tenant_does_nothing_there(app, notified, make_tenant, ingest_raw):
    tenant, ref, mail = notified("targito")
    exea = make_tenant("exea")
    reply = reply_message(mail, sender="customer@example.com", body="Omylem jinam.")
    result = ingest_raw(exea, reply)
    assert result["outcome"] == "rejected" and result["ticket_id"] is None  # unknown sender at Exea
    assert "Omylem jinam." not in [c[1] for c in comments_of(app, tenant, ref)]


def test_agents_open_the_original_email_of_a_comment(app, client, login, notified, ingest_raw):
    tenant, ref, mail = notified("targito")
    reply = reply_message(mail, sender="customer@example.com", body="Viz originál.")
    result = ingest_raw(tenant, reply)
    as_(client, login, "targito", "agent")
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    link = f"/requests/{ref}/comments/{result['comment_id']}/original"
    assert link in page
    response = client.get(portal_url("targito", link))
    assert response.status_code == 200 and response.mimetype == "message/rfc822"
    assert response.get_data() == reply.as_bytes()
    as_(client, login, "targito", "customer")
    assert client.get(portal_url("targito", link)).status_code == 404


def test_the_cli_ingests_a_file_or_standard_input(app, notified, tmp_path):
    tenant, ref, mail = notified("targito")
    path = tmp_path / "reply.eml"
    path.write_bytes(reply_message(mail, sender="customer@example.com", body="Z příkazové řádky.").as_bytes())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "ingest", "--tenant", "targito", str(path)])
    assert result.exit_code == 0, result.output
    assert "comment" in result.output and ref in result.output
    again = runner.invoke(args=["mail", "ingest", "--tenant", "targito", "-"], input=path.read_bytes())
    assert "duplicate" in again.output
    assert runner.invoke(args=["mail", "ingest", "--tenant", "nosuch", str(path)]).exit_code == 2


def test_the_cli_tells_the_operator_in_their_language_not_the_tenants(app, notified, tmp_path):
    tenant, ref, mail = notified("targito")  # a Czech tenant
    path = tmp_path / "reply.eml"
    path.write_bytes(reply_message(mail, sender="customer@example.com", body="Z příkazové řádky.").as_bytes())
    app.config["PORTAL_CLI_LANGUAGE"] = "hu"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "ingest", "--tenant", "targito", str(path)])
    assert result.exit_code == 0, result.output
    assert translated(app, "hu", "added as a comment") in result.output
    assert translated(app, "hu", "request %(reference)s", reference=ref) in result.output
    unknown = runner.invoke(args=["mail", "ingest", "--tenant", "nosuch", str(path)])
    assert (
        unknown.exit_code == 2
        and translated(
            app, "hu", "error: %(problem)s", problem=translated(app, "hu", "no tenant '%(slug)s'", slug="nosuch")
        )
        in unknown.output
    )


def test_the_mail_gate_accepts_raw_messages_only_with_its_token(app, client, notified):
    tenant, ref, mail = notified("targito")
    app.config["MAILGATE_TOKEN"] = "s3cret-token"
    raw = reply_message(mail, sender="customer@example.com", body="Přes bránu.").as_bytes()
    url = portal_url(None, "/mailgate/targito")
    assert client.post(url, data=raw, content_type="message/rfc822").status_code == 401
    assert client.post(url, data=raw, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert (
        client.post(
            portal_url("targito", "/mailgate/targito"), data=raw, headers={"Authorization": "Bearer s3cret-token"}
        ).status_code
        == 404
    )  # platform domain only
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(InboundMessage)).all() == []
    response = client.post(
        url, data=raw, content_type="message/rfc822", headers={"Authorization": "Bearer s3cret-token"}
    )
    assert response.status_code == 200 and response.json["outcome"] == "comment"
    assert comments_of(app, tenant, ref)[-1][1] == "Přes bránu."
    assert (
        client.post(
            portal_url(None, "/mailgate/nosuch"), data=raw, headers={"Authorization": "Bearer s3cret-token"}
        ).status_code
        == 404
    )


def test_a_message_whose_processing_failed_is_processed_again_by_the_operator(app, notified, tmp_path, monkeypatch):
    """A fault while processing keeps the message as ``failed``; once it is fixed, ``mail reprocess``
    turns it into the comment it should have been, once."""
    import app.mailin.comments as comments

    tenant, ref, mail = notified("targito")
    path = tmp_path / "reply.eml"
    path.write_bytes(reply_message(mail, sender="customer@example.com", body="Posílám znovu.").as_bytes())
    runner = app.test_cli_runner()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the intake")

    with monkeypatch.context() as patch:
        patch.setattr(comments, "add_as_comment", broken)
        first = runner.invoke(args=["mail", "ingest", "--tenant", "targito", str(path)])
    assert "failed" in first.output, first.output
    assert "Posílám znovu." not in [body for _who, body, _channel in comments_of(app, tenant, ref)]

    result = runner.invoke(args=["mail", "reprocess", "--tenant", "targito"])
    assert result.exit_code == 0, result.output
    assert "added as a comment" in result.output and ref in result.output
    assert [body for _who, body, _channel in comments_of(app, tenant, ref)].count("Posílám znovu.") == 1
    again = runner.invoke(args=["mail", "reprocess", "--tenant", "targito"])
    assert again.exit_code == 0 and "no failed messages" in again.output
    assert [body for _who, body, _channel in comments_of(app, tenant, ref)].count("Posílám znovu.") == 1


def test_agents_open_the_email_a_request_was_created_from(app, client, login, make_tenant, make_user, ingest_raw):
    tenant = make_tenant("exea")
    make_user(tenant, "customer@example.com", name="Jan Kowalski", locale="pl")
    make_user(tenant, "agent@example.com", role="agent", name="Agent")
    message = new_message(
        sender="Jan Kowalski <customer@example.com>",
        to=SUPPORT["exea"],
        subject="Serwer nie odpowiada",
        body="Dzień dobry,\n\nserwer nie odpowiada.\n\nJan",
    )
    result = ingest_raw(tenant, message)
    with app.app_context(), tenant_scope(tenant.id):
        reference = db.session.get(Ticket, result["ticket_id"]).reference
    link = f"/requests/{reference}/original"
    as_(client, login, "exea", "agent")
    assert link in client.get(portal_url("exea", f"/requests/{reference}")).get_data(as_text=True)
    response = client.get(portal_url("exea", link))
    assert response.status_code == 200 and response.get_data() == message.as_bytes()
    as_(client, login, "exea", "customer")
    assert link not in client.get(portal_url("exea", f"/requests/{reference}")).get_data(as_text=True)
    assert client.get(portal_url("exea", link)).status_code == 404
