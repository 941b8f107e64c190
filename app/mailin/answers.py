"""Short, translated answers to the sender of an inbound message (received, refused, held...),
threaded under their message. No-reply addresses and auto-replies are never answered (the callers
check); the answers go through the outbox like every e-mail.
"""

from __future__ import annotations

from flask import g, url_for

from app.accounts.models import User
from app.mailin.routing import portal_host
from app.tickets.models import Ticket


def answer(inbound, parsed, kind: str, *, user: User | None = None, ticket: Ticket | None = None, **context) -> None:
    """Queue a short, translated answer to the sender (their account's language, else the tenant's),
    threaded under their message. Callers make sure the sender may be answered at all."""
    from app.outbox.links import reply_address, thread_root_id
    from app.outbox.services import queue_email, recipient_locale, subject_tag, support_address

    own = f"<{parsed.message_id}>" if parsed.message_id else None
    headers = {"X-Auto-Response-Suppress": "All"}
    if own:
        headers["In-Reply-To"] = own
        headers["References"] = " ".join([*(f"<{r}>" for r in parsed.references[-5:]), own])
    if kind == "request_received" and ticket is not None:
        domain = portal_host()
        headers["Reply-To"] = reply_address(support_address(g.tenant), ticket, parsed.from_address)
        headers["References"] = " ".join(filter(None, [thread_root_id(ticket, domain), own]))
    queue_email(
        kind=f"mailin_{kind}",
        to=parsed.from_address,
        user=user,
        locale=recipient_locale(user),
        template=f"mailin/email/{kind}",
        idempotency_key=f"mailin:{inbound.id}:{kind}",
        headers=headers,
        ticket_id=ticket.id if ticket is not None else None,
        ticket=ticket,
        tag=subject_tag(g.tenant, ticket) if ticket is not None else "",
        original_subject=parsed.subject or "",
        sender_address=parsed.from_address,
        portal_link=url_for("portal.home", _external=True),
        request_link=url_for("tickets.detail", reference=ticket.reference, _external=True) if ticket else "",
        **context,
    )
