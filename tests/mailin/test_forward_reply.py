"""Flexinform's non-technical question: the agent forwards a summary to an outside address (the
request becomes Megoldva), and the answer to that e-mail lands on the request and reopens it."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Comment, Ticket
from tests.conftest import portal_url
from tests.mailin.conftest import SUPPORT, quoted_reply, reply_message
from tests.notifications.test_request_notifications import deliver, mails_to, text_of
from tests.tickets.test_conversation import as_, status_of

# An in-process RQ worker runs the jobs, each committing on a session of its own (not nested in the test's).
pytestmark = pytest.mark.real_commits


def test_the_answer_to_a_forwarded_summary_comes_back_as_a_comment_and_reopens_the_request(
    app, client, request_at, login, smtp, ingest_raw
):
    app.config["MAIL_URL"] = smtp.url
    tenant, ref = request_at("flexinform")
    as_(client, login, "flexinform", "agent")
    client.post(
        portal_url("flexinform", f"/requests/{ref}/forward"),
        data={"email": "titkarsag@szovetseg.example", "note": "Mi a szabály erre az évadra?"},
    )
    assert status_of(app, tenant, ref) == "megoldva"
    deliver(app)
    [forwarded] = mails_to(smtp, "titkarsag@szovetseg.example")
    answer = quoted_reply(
        "Az idei évadra a 2024-es szabályzat érvényes.", text_of(forwarded), lang="hu", support=SUPPORT["flexinform"]
    )
    row = ingest_raw(
        tenant, reply_message(forwarded, sender="Szövetség Titkárság <titkarsag@szovetseg.example>", body=answer)
    )
    assert row["outcome"] == "comment"
    assert status_of(app, tenant, ref) == "folyamatban"  # the reply reopened it
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        body = db.session.get(Comment, row["comment_id"]).body
        assert ticket.id == row["ticket_id"]
    assert body == "Az idei évadra a 2024-es szabályzat érvényes."
    # The agent hears of it (nobody is assigned: every agent).
    deliver(app)
    assert any("Az idei évadra" in text_of(m) for m in mails_to(smtp, "agent@example.com"))
