"""One e-mail about one request for one recipient, listing every change of its batch.

Written in the recipient's language (their profile, else the tenant's default), with the tenant's
branding, the reference tag in the subject, a "reply above this line" marker, threading headers, a
Reply-To address that routes the reply back to the request, and signed links: view the request,
add a comment, stop notifications (one click, RFC 8058 ``List-Unsubscribe-Post`` too) and, for
the satisfaction survey, a 1–5 rating.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app, g
from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import Field
from app.catalog.services import form_fields
from app.extensions import db
from app.notifications.settings import cc_addresses
from app.outbox.links import email_links, rate_link, reply_address, thread_root_id
from app.outbox.services import queue_email, recipient_locale, subject_tag, support_address
from app.tenancy.settings import tenant_settings
from app.tickets.models import Comment, Ticket, TicketEvent, TicketFieldValue, Watcher
from app.tickets.policy import allowed_actions, can
from app.workflow.models import Status
from app.workflow.services import available_transitions


def _still_wanted(rows, ticket, user: User | None, address: str) -> list:
    """The notifications the recipient should still get now (they may have switched them off, lost
    access, or been removed from CC since the change)."""
    if user is not None:
        if not user.active or not can(user, "view", ticket):
            return []
        watching = (
            db.session.execute(
                select(Watcher.id).where(Watcher.ticket_id == ticket.id, Watcher.user_id == user.id)
            ).first()
            is not None
        )
        if watching or user.is_staff:
            return rows
        return [r for r in rows if r.event_kind in ("survey_requested", "assigned")]
    key = tenant_settings(g.tenant).notifications.cc_field
    text = db.session.execute(
        select(TicketFieldValue.value_text)
        .join(Field, TicketFieldValue.field_id == Field.id)
        .where(TicketFieldValue.ticket_id == ticket.id, Field.key == key)
    ).scalar_one_or_none()
    return rows if key and address in cc_addresses(text) else []


def _items(rows, ticket, audience: str, when) -> list[dict]:
    """What happened, oldest first, as the template shows it."""
    events = {
        e.id: e for e in db.session.scalars(select(TicketEvent).where(TicketEvent.id.in_([r.event_id for r in rows])))
    }
    comment_ids = [
        (e.data or {}).get("comment_id") for e in events.values() if e.kind in ("commented", "internal_note")
    ]
    comments: dict[int | None, Comment] = {
        c.id: c for c in db.session.scalars(select(Comment).where(Comment.id.in_([i for i in comment_ids if i])))
    }
    actor_ids = {e.actor_id for e in events.values() if e.actor_id} | {
        c.author_id for c in comments.values() if c.author_id
    }
    people: dict[int | None, User] = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    )
    statuses: dict[str | None, Status] = {s.key: s for s in db.session.scalars(select(Status))}
    fields: dict[str | None, object] = {f.key: f for f in form_fields(g.tenant, ticket.request_type.form_id)}
    items = []
    for row in rows:
        event = events.get(row.event_id)
        if event is None:
            continue
        data = event.data or {}
        item = {"kind": event.kind, "when": when(event.created_at), "actor": people.get(event.actor_id), "data": data}
        if event.kind == "status_changed":
            names = "name" if audience == "agent" else "customer_name"
            before, after = statuses.get(data.get("from_status")), statuses.get(data.get("to_status"))
            item["old"] = getattr(before, names, None) or {}
            item["new"] = getattr(after, names, None) or {}
            item["waiting"] = after is not None and after.category == "waiting"
        elif event.kind == "field_changed":
            item["field"] = fields.get(data.get("field"))
            if item["field"] is None or data.get("new") in (None, "", []):
                continue
        elif event.kind in ("commented", "internal_note"):
            comment = comments.get(data.get("comment_id"))
            if comment is None:
                continue
            if comment.is_internal and audience != "agent":
                continue  # never shown to customers, whatever planned it
            item["comment"] = comment
            item["actor"] = people.get(comment.author_id)
        items.append(item)
    return items


def _clock(user: User | None):
    """Formats a moment as the recipient reads it: their language and time zone (else the tenant's)."""
    zone = ZoneInfo((user.timezone if user is not None and user.timezone else None) or g.tenant.timezone or "UTC")
    locale = recipient_locale(user)
    return lambda moment: format_datetime(moment, "short", tzinfo=zone, locale=locale)


def compose_update(rows):
    """Queue the e-mail for a batch of notifications (same request, same recipient); None when
    nothing is left to say. Runs inside ``tenant_context`` (a job)."""
    first = rows[0]
    ticket = db.session.get_one(Ticket, first.ticket_id)
    user = db.session.get(User, first.recipient_user_id) if first.recipient_user_id else None
    audience = "agent" if any(r.audience == "agent" for r in rows) and (user is None or user.is_staff) else "customer"
    kinds: dict[int, str] = {
        event_id: kind
        for event_id, kind in db.session.execute(
            select(TicketEvent.id, TicketEvent.kind).where(TicketEvent.id.in_([r.event_id for r in rows]))
        )
    }
    for row in rows:
        row.event_kind = kinds.get(row.event_id)
    wanted = _still_wanted(rows, ticket, user, first.recipient)
    items = _items(wanted, ticket, audience, _clock(user)) if wanted else []
    if not items:
        return None
    tenant = g.tenant
    domain = current_app.config["PORTAL_DOMAIN"].split(":")[0]
    links = email_links(ticket, user_id=user.id if user else None, address=first.recipient)
    survey = any(item["kind"] == "survey_requested" for item in items)
    steps = _customer_steps(ticket, user) if audience == "customer" else []
    root = thread_root_id(ticket, domain)
    headers = {
        "Reply-To": reply_address(support_address(tenant), ticket, first.recipient),  # signed for this recipient
        "In-Reply-To": root,
        "References": root,
        "List-Id": f"{tenant.name} <{tenant.slug}.{domain}>",
        "List-Unsubscribe": f"<{links['unsubscribe']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Auto-Response-Suppress": "All",
    }
    return queue_email(
        kind="ticket_update",
        to=first.recipient,
        user=user,
        locale=recipient_locale(user),
        template="tickets/email/update",
        idempotency_key=f"notify:{ticket.id}:{first.recipient}:{first.id}",
        headers=headers,
        ticket_id=ticket.id,
        ticket=ticket,
        items=items,
        audience=audience,
        links=links,
        tag=subject_tag(tenant, ticket),
        rate_links=[(score, rate_link(links["rate_token"], score)) for score in range(1, 6)] if survey else [],
        recipient_name=user.display_name if user else "",
        steps=steps,
    )


def _customer_steps(ticket, user: User | None) -> list[dict]:
    """The workflow steps the recipient may take now (Targito's approve / reject), named in the e-mail."""
    if user is None or not ({"close", "reopen", "approve"} & allowed_actions(user, ticket)):
        return []
    return [t.name for t in available_transitions(ticket, "customer")]
