"""Who else a request is shared with: people (participants), the requester's organizations, and an
outside address a summary is forwarded to.

Adding or removing people publishes ``ParticipantsChanged``; each share by e-mail is throttled like
every other mail a person can cause to be sent.
"""

from __future__ import annotations

from flask import current_app, g, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts import ratelimit
from app.accounts.models import Membership, User
from app.accounts.policy import is_staff
from app.accounts.registration import create_contact_account
from app.accounts.users import create_user, find_user, normalize_email
from app.catalog.services import form_fields
from app.db_types import utcnow
from app.extensions import db
from app.outbox.links import reply_address, thread_root_id
from app.outbox.services import queue_email, subject_tag, support_address
from app.tenancy.settings import tenant_settings
from app.tickets.errors import RequestError
from app.tickets.events import ParticipantsChanged, publish
from app.tickets.models import Comment, Participant, Ticket, TicketEvent, TicketFieldValue, TicketOrganization, Watcher
from app.tickets.services import record_event
from app.tickets.transitions import apply_transition
from app.workflow.services import actor_kind, available_transitions


def share_with_person(ticket: Ticket, by: User, email: str) -> tuple[User, bool]:
    """Add a participant by e-mail (Flexinform's "Megosztás"): they see the request, get its
    notifications (as watchers; they may switch them off) and may comment. Someone without an account
    gets one, with a link to set a password; someone with an account gets a notice.

    At a portal whose registration is by invitation only staff give new people access: a customer
    shares only with people who have an account there. Each share sends an e-mail, so shares are
    throttled per sharer, per address and per tenant (``ratelimit.allow_mail``)."""
    address = normalize_email(email)
    if "@" not in address or " " in address or len(address) > 320:
        raise RequestError(_("Please enter a valid e-mail address."), "email")
    existing = find_user(address)
    if existing is None and not is_staff(by) and g.tenant.registration_mode != "open":
        raise RequestError(
            _(
                "%(email)s has no account at this portal, and only the support team can invite new people here.",
                email=address,
            ),
            "email",
        )
    if existing is not None:
        if existing.id == ticket.requester_id:
            raise RequestError(_("%(email)s is the requester of this request.", email=existing.email), "email")
        if db.session.execute(
            select(Participant.id).where(Participant.ticket_id == ticket.id, Participant.user_id == existing.id)
        ).first():
            raise RequestError(_("The request is already shared with %(email)s.", email=existing.email), "email")
    if not ratelimit.allow_mail("share", recipient=address, sender=f"user:{by.id}", tenant_id=ticket.tenant_id):
        raise RequestError(
            _("The request could not be shared just now: too many e-mails have been sent. Please try again later."),
            "email",
        )
    link = url_for("tickets.detail", reference=ticket.reference, _external=True)
    user, created = create_contact_account(
        address, reason="shared_invitation", ticket=ticket, sharer=by, request_link=link
    )
    db.session.add(Participant(ticket_id=ticket.id, user_id=user.id, added_by_id=by.id))
    if (
        db.session.execute(select(Watcher.id).where(Watcher.ticket_id == ticket.id, Watcher.user_id == user.id)).first()
        is None
    ):
        db.session.add(Watcher(ticket_id=ticket.id, user_id=user.id))
    if not created:
        queue_email(
            kind="request_shared",
            to=user.email,
            user=user,
            template="tickets/email/shared",
            idempotency_key=f"shared:{ticket.id}:{user.id}",
            ticket=ticket,
            sharer=by,
            request_link=link,
        )
    record_event(ticket, "participant_added", actor=by, user_id=user.id, invited=created)
    publish(ParticipantsChanged(ticket, by, added=(user.id,)))
    return user, created


def remove_participant(ticket: Ticket, by: User, user_id: int) -> None:
    """Stop sharing the request with a person: they no longer see or follow it."""
    participant = db.session.execute(
        select(Participant).where(Participant.ticket_id == ticket.id, Participant.user_id == user_id)
    ).scalar_one_or_none()
    if participant is None:
        return
    db.session.delete(participant)
    watcher = db.session.execute(
        select(Watcher).where(Watcher.ticket_id == ticket.id, Watcher.user_id == user_id)
    ).scalar_one_or_none()
    if watcher is not None:
        db.session.delete(watcher)
    record_event(ticket, "participant_removed", actor=by, user_id=user_id)
    publish(ParticipantsChanged(ticket, by, removed=(user_id,)))


def set_organization_sharing(ticket: Ticket, by: User, organization_id: int, shared: bool) -> None:
    """Share with (or stop sharing with) one of the requester's organizations: its members can see
    and follow the request; nobody is notified by the sharing itself."""
    allowed = set(
        db.session.scalars(select(Membership.organization_id).where(Membership.user_id == ticket.requester_id))
    )
    if organization_id not in allowed:
        raise RequestError(_("The request can only be shared with the requester's organizations."))
    existing = db.session.execute(
        select(TicketOrganization).where(
            TicketOrganization.ticket_id == ticket.id, TicketOrganization.organization_id == organization_id
        )
    ).scalar_one_or_none()
    if shared and existing is None:
        db.session.add(TicketOrganization(ticket_id=ticket.id, organization_id=organization_id))
        record_event(ticket, "shared_with_organizations", actor=by, organizations=[organization_id])
    elif not shared and existing is not None:
        db.session.delete(existing)
        record_event(ticket, "unshared_with_organization", actor=by, organization=organization_id)


# --- forwarding a summary to someone outside (agents) ---------------------------------------------


def forward_summary(ticket: Ticket, by: User, email: str, note: str = "") -> User:
    """E-mail a summary of the request to an outside address (Flexinform: a question for the
    federation). The address becomes a participant without a login link or notifications, so that
    their reply by e-mail lands on the request as a comment (and reopens it by the tenant's rules).
    Where the tenant says so (``settings.forward_status``), the request then moves to that status
    by the agent's workflow step."""
    if ticket.status.is_final:
        raise RequestError(_("This request is already closed."))
    address = normalize_email(email or "")
    if "@" not in address or " " in address or len(address) > 320 or "." not in address.rsplit("@", 1)[-1]:
        raise RequestError(_("Please enter a valid e-mail address."), "email")
    tenant = g.tenant
    outsider = find_user(address)
    if outsider is None:
        outsider = create_user(address, role="customer", locale=tenant.default_locale)
        db.session.flush()
    elif outsider.is_staff:
        raise RequestError(_("%(email)s is an agent here; assign the request instead.", email=address), "email")
    if not db.session.execute(
        select(Participant.id).where(Participant.ticket_id == ticket.id, Participant.user_id == outsider.id)
    ).first():
        db.session.add(Participant(ticket_id=ticket.id, user_id=outsider.id, added_by_id=by.id))
        publish(ParticipantsChanged(ticket, by, added=(outsider.id,)))
    fields = {f.id: f for f in form_fields(tenant, ticket.request_type.form_id)}
    values = [
        (fields[v.field_id], v.value)
        for v in db.session.scalars(select(TicketFieldValue).where(TicketFieldValue.ticket_id == ticket.id))
        if v.field_id in fields and fields[v.field_id].key not in ("summary", "description", "attachments")
    ]
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.ticket_id == ticket.id, Comment.is_internal.is_(False))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    domain = current_app.config["PORTAL_DOMAIN"].split(":")[0]
    root = thread_root_id(ticket, domain)
    record_event(ticket, "forwarded", actor=by, to=address, note=bool((note or "").strip()))
    db.session.flush()
    count = db.session.execute(
        select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "forwarded")
    ).scalar_one()
    queue_email(
        kind="ticket_forward",
        to=address,
        user=outsider,
        template="tickets/email/forward",
        idempotency_key=f"forward:{ticket.id}:{address}:{count}",
        ticket_id=ticket.id,
        headers={
            "Reply-To": reply_address(support_address(tenant), ticket, address),
            "In-Reply-To": root,
            "References": root,
        },
        ticket=ticket,
        sender=by,
        note=(note or "").strip(),
        values=values,
        comments=comments,
        tag=subject_tag(tenant, ticket),
    )
    target = tenant_settings(tenant).forward_status
    if target:
        step = next(
            (t for t in available_transitions(ticket, actor_kind(by)) if t.to_status.key == target and not t.requires),
            None,
        )
        if step is not None:
            apply_transition(ticket, step, actor_user=by)
    ticket.updated_at = utcnow()
    return outsider
