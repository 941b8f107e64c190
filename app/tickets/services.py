"""The ticket service: every change to a request goes through here (views and jobs never write models).

This module holds the rules every later feature builds on: the tenant-prefixed reference handed out
without gaps or races, and a timeline event for everything that happens.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.accounts.models import User
from app.catalog.models import RequestType
from app.db_types import utcnow
from app.extensions import db
from app.security.params import single_line
from app.tenancy.models import Tenant
from app.tenancy.scoping import current_tenant_id
from app.tickets.models import Ticket, TicketEvent, TicketSequence
from app.workflow.models import Workflow


def ensure_ticket_sequence() -> None:
    """Create the current tenant's counter if it has none (idempotent, safe against a concurrent twin)."""
    from sqlalchemy.exc import IntegrityError

    if db.session.execute(select(TicketSequence.id)).scalar_one_or_none() is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(TicketSequence(last_number=0))
    except IntegrityError:
        pass  # created by a concurrent transaction meanwhile


def next_ticket_number() -> int:
    """Take the next number of the current tenant.

    One atomic ``UPDATE ... RETURNING`` inside the caller's transaction: concurrent creators queue
    on the counter's row lock (PostgreSQL) or the write lock (SQLite), and a rolled-back request
    gives its number back, so references have neither duplicates nor gaps.
    """
    number = db.session.execute(
        update(TicketSequence).values(last_number=TicketSequence.last_number + 1).returning(TicketSequence.last_number)
    ).scalar_one_or_none()
    if number is None:
        ensure_ticket_sequence()
        number = db.session.execute(
            update(TicketSequence)
            .values(last_number=TicketSequence.last_number + 1)
            .returning(TicketSequence.last_number)
        ).scalar_one()
    return number


def record_event(ticket: Ticket, kind: str, *, actor: User | None = None, **data) -> TicketEvent:
    """Append to the request's timeline; the notifications it causes are planned at commit
    (``app.notifications.planning``), in the same transaction."""
    from app.automation.sla import comment_recorded
    from app.notifications.planning import note_event

    event = TicketEvent(ticket=ticket, actor_id=actor.id if actor else None, kind=kind, data=data)
    db.session.add(event)
    note_event(db.session, event)
    comment_recorded(ticket, kind, actor)
    return event


def create_ticket(
    *,
    request_type: RequestType,
    requester: User,
    summary: str,
    description: str = "",
    created_by: User | None = None,
    channel: str = "portal",
) -> Ticket:
    """Create a request of ``request_type`` for ``requester`` in its workflow's initial status.

    The caller validates the form (catalog) and commits; the reference, initial status and the
    'created' timeline event are set here, in the same transaction.
    """
    summary = single_line(summary).strip()  # one line: it becomes an e-mail subject
    if not summary:
        raise ValueError("a request needs a summary")
    tenant = db.session.get(Tenant, current_tenant_id())
    workflow = db.session.get(Workflow, request_type.workflow_id)
    number = next_ticket_number()
    now = utcnow()
    ticket = Ticket(
        number=number,
        reference=f"{tenant.reference_prefix}-{number}",
        portal_id=request_type.portal_id,
        request_type=request_type,
        status_id=workflow.initial_status_id,
        summary=summary[:500],
        description=description or "",
        requester=requester,
        created_by=created_by or requester,
        channel=channel,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(ticket)
    record_event(ticket, "created", actor=created_by or requester, channel=channel)
    db.session.flush()
    return ticket


# --- raising a request on the portal ----------------------------------------------------------

DEFAULT_MAX_ATTACHMENT_MB = 20
DEFAULT_MAX_ATTACHMENTS = 10
# Files that run when opened are refused; everything else is stored and served as a download.
BLOCKED_EXTENSIONS = {
    "exe",
    "com",
    "bat",
    "cmd",
    "msi",
    "scr",
    "pif",
    "cpl",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "ps1",
    "hta",
    "jar",
    "lnk",
    "reg",
    "dll",
    "sys",
}


class RequestError(Exception):
    """A problem the person can fix (translated); ``field`` names the form field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def attachment_limits(tenant) -> tuple[int, int]:
    """The tenant's limits for attached files: bytes per file and files per upload."""
    settings = tenant.settings or {}
    return (
        int(settings.get("max_attachment_mb", DEFAULT_MAX_ATTACHMENT_MB)) * 1024 * 1024,
        int(settings.get("max_attachments", DEFAULT_MAX_ATTACHMENTS)),
    )


def check_uploads(tenant, uploads) -> list:
    """The files to store, or RequestError if any breaks the tenant's limits (nothing is stored then)."""
    from flask_babel import gettext as _

    from app.storage.files import safe_filename

    files = [f for f in uploads or [] if getattr(f, "filename", "")]
    max_bytes, max_count = attachment_limits(tenant)
    if len(files) > max_count:
        raise RequestError(_("You can attach at most %(count)d files at once.", count=max_count), "attachments")
    for upload in files:
        name = safe_filename(upload.filename)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension in BLOCKED_EXTENSIONS:
            raise RequestError(
                _("Files of type .%(extension)s cannot be attached for safety reasons.", extension=extension),
                "attachments",
            )
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if size > max_bytes:
            raise RequestError(
                _("%(name)s is too large: at most %(size)d MB per file.", name=name, size=max_bytes // (1024 * 1024)),
                "attachments",
            )
        if size == 0:
            raise RequestError(_("%(name)s is empty.", name=name), "attachments")
    return files


def store_attachments(ticket: Ticket, files, *, uploaded_by: User | None, comment_id: int | None = None) -> list:
    """Upload to storage first, then record the rows; on failure remove what was uploaded.

    The stored name is normalised (``safe_filename``) and the content type is read from the bytes
    (``sniff_content_type``): the client's name and claimed type are not trusted."""
    from flask_babel import gettext as _

    from app.storage import StorageError, get_storage, make_key
    from app.storage.files import SNIFF_BYTES, safe_filename, sniff_content_type
    from app.tickets.models import Attachment

    storage = get_storage()
    stored = []
    try:
        for upload in files:
            name = safe_filename(upload.filename)
            key = make_key(ticket.tenant_id, ticket.id)
            upload.stream.seek(0)
            content_type = sniff_content_type(upload.stream.read(SNIFF_BYTES), name)
            upload.stream.seek(0, 2)
            size = upload.stream.tell()
            upload.stream.seek(0)
            storage.put(key, upload.stream, content_type)
            stored.append(key)
            db.session.add(
                Attachment(
                    ticket_id=ticket.id,
                    comment_id=comment_id,
                    storage_key=key,
                    filename=name,
                    content_type=content_type,
                    size=size,
                    uploaded_by_id=uploaded_by.id if uploaded_by else None,
                )
            )
    except StorageError:
        for key in stored:
            try:
                storage.delete(key)
            except StorageError:
                pass
        raise RequestError(
            _("The files could not be saved just now. Nothing was sent; please try again."), "attachments"
        ) from None
    return stored


def raise_request(
    *,
    tenant,
    request_type_id: int,
    requester: User,
    created_by: User,
    values: dict,
    uploads=(),
    share_with_organization_ids=(),
    channel: str = "portal",
) -> Ticket:
    """Create a request from a validated form: the ticket, its field values, sharing, the requester
    as watcher, and the attachments, in one transaction (an upload failure leaves nothing behind)."""
    from flask_babel import gettext as _

    from app.accounts.models import Membership
    from app.accounts.policy import can_raise_requests
    from app.catalog.models import Field
    from app.storage import get_storage
    from app.tickets.models import TicketFieldValue, TicketOrganization, Watcher

    # By e-mail, the message itself comes from the address (as a reply adding a comment does).
    if channel != "email" and not can_raise_requests(created_by):
        raise RequestError(_("Please confirm your e-mail address before raising a request."))
    files = check_uploads(tenant, uploads)
    request_type = db.session.get(RequestType, request_type_id)
    allowed_orgs = set(db.session.scalars(select(Membership.organization_id).where(Membership.user_id == requester.id)))
    share_ids = [int(i) for i in share_with_organization_ids]
    if any(org_id not in allowed_orgs for org_id in share_ids):
        raise RequestError(_("The request can only be shared with the requester's organizations."), "share_with")
    stored_keys = []
    try:
        ticket = create_ticket(
            request_type=request_type,
            requester=requester,
            summary=values.get("summary") or "",
            description=values.get("description") or "",
            created_by=created_by,
            channel=channel,
        )
        fields = {f.key: f.id for f in db.session.scalars(select(Field).where(Field.form_id == request_type.form_id))}
        for key, value in values.items():
            if key in ("summary", "description") or key not in fields or value in (None, "", []):
                continue
            db.session.add(
                TicketFieldValue(
                    ticket_id=ticket.id, field_id=fields[key], value=value, value_text=TicketFieldValue.text_of(value)
                )
            )
        for org_id in share_ids:
            db.session.add(TicketOrganization(ticket_id=ticket.id, organization_id=org_id))
        db.session.add(Watcher(ticket_id=ticket.id, user_id=requester.id))
        from app.automation.sla import refresh_targets

        refresh_targets(ticket)
        if share_ids:
            record_event(ticket, "shared_with_organizations", actor=created_by, organizations=share_ids)
        stored_keys = store_attachments(ticket, files, uploaded_by=created_by)
        if stored_keys:
            record_event(ticket, "attachments_added", actor=created_by, count=len(stored_keys))
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage = get_storage()
        for key in stored_keys:
            storage.delete(key)
        raise
    return ticket


# --- conversation and customer actions ---------------------------------------------------------


def add_comment(
    ticket: Ticket,
    author: User,
    body: str,
    *,
    uploads=(),
    is_internal: bool = False,
    transition_id: int | None = None,
    channel: str = "portal",
):
    """A comment (with files, and for customers an optional "change status to"), in one transaction.

    A customer's comment runs the tenant's ``customer_comment`` rules (e.g. back to support)."""
    from flask_babel import gettext as _

    from app.automation.services import apply_event_rules
    from app.storage import get_storage
    from app.tickets.models import Comment
    from app.workflow.models import Transition
    from app.workflow.services import actor_kind, apply_transition

    body = (body or "").strip()
    files = check_uploads(_tenant_context(), uploads)
    if not body and not files:
        raise RequestError(_("Please write a comment or attach a file."), "body")
    if len(body) > 20000:
        raise RequestError(_("The comment is too long."), "body")
    if is_internal and not author.is_staff:
        is_internal = False
    stored = []
    try:
        comment = Comment(ticket_id=ticket.id, author_id=author.id, body=body, is_internal=is_internal, channel=channel)
        db.session.add(comment)
        db.session.flush()
        record_event(ticket, "internal_note" if is_internal else "commented", actor=author, comment_id=comment.id)
        stored = store_attachments(ticket, files, uploaded_by=author, comment_id=comment.id)
        ticket.updated_at = utcnow()
        if transition_id:
            apply_transition(ticket, db.session.get(Transition, transition_id), actor_user=author, comment=body)
        elif actor_kind(author) == "customer" and not is_internal:
            apply_event_rules(ticket, "email_reply" if channel == "email" else "customer_comment")
        db.session.commit()
    except Exception:
        db.session.rollback()
        for key in stored:
            get_storage().delete(key)
        raise
    return comment


def take_transition(
    ticket: Ticket, actor: User, transition_id: int, comment: str = "", values: dict | None = None
) -> None:
    """A workflow step (confirm, send back, approve, reject, close, reopen...), with its comment and
    the values of the fields it requires (Targito's list of information needed)."""
    from app.tickets.models import Comment
    from app.workflow.models import Transition
    from app.workflow.services import TransitionError, apply_transition

    transition = db.session.get(Transition, transition_id)
    if transition is None:
        raise TransitionError("unknown transition")
    try:
        apply_transition(ticket, transition, actor_user=actor, comment=comment, values=values)
        if (comment or "").strip():
            note = Comment(ticket_id=ticket.id, author_id=actor.id, body=comment.strip())
            db.session.add(note)
            db.session.flush()
            record_event(ticket, "commented", actor=actor, comment_id=note.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def set_watching(ticket: Ticket, user: User, watching: bool) -> None:
    from app.tickets.models import Watcher

    existing = db.session.execute(
        select(Watcher).where(Watcher.ticket_id == ticket.id, Watcher.user_id == user.id)
    ).scalar_one_or_none()
    if watching and existing is None:
        db.session.add(Watcher(ticket_id=ticket.id, user_id=user.id))
        record_event(ticket, "watch_started", actor=user)
    elif not watching and existing is not None:
        db.session.delete(existing)
        record_event(ticket, "watch_stopped", actor=user)
    db.session.commit()


def _tenant_context():
    from flask import g

    return g.tenant


# --- sharing ------------------------------------------------------------------------------------


def share_with_person(ticket: Ticket, by: User, email: str) -> tuple[User, bool]:
    """Add a participant by e-mail (Flexinform's "Megosztás"): they see the request, get its
    notifications (as watchers; they may switch them off) and may comment. Someone without an account
    gets one, with a link to set a password; someone with an account gets a notice.

    At a portal whose registration is by invitation only staff give new people access: a customer
    shares only with people who have an account there. Each share sends an e-mail, so shares are
    throttled per sharer, per address and per tenant (``ratelimit.allow_mail``)."""
    from flask import url_for
    from flask_babel import gettext as _

    from app.accounts import ratelimit
    from app.accounts.policy import is_staff
    from app.accounts.registration import create_contact_account
    from app.accounts.users import find_user, normalize_email
    from app.notifications.services import queue_email
    from app.tickets.models import Participant, Watcher

    address = normalize_email(email)
    if "@" not in address or " " in address or len(address) > 320:
        raise RequestError(_("Please enter a valid e-mail address."), "email")
    existing = find_user(address)
    if existing is None and not is_staff(by) and _tenant_context().registration_mode != "open":
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
    db.session.commit()
    return user, created


def remove_participant(ticket: Ticket, by: User, user_id: int) -> None:
    from app.tickets.models import Participant, Watcher

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
    db.session.commit()


def set_organization_sharing(ticket: Ticket, by: User, organization_id: int, shared: bool) -> None:
    """Share with (or stop sharing with) one of the requester's organizations: its members can see
    and follow the request; nobody is notified by the sharing itself."""
    from flask_babel import gettext as _

    from app.accounts.models import Membership
    from app.tickets.models import TicketOrganization

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
    db.session.commit()


# --- editing the basic information --------------------------------------------------------------


def update_details(ticket: Ticket, by: User, values: dict, uploads=()) -> list[str]:
    """Change the fields the tenant lets requesters edit after creation (Festum's "Perustiedot"),
    add files; every change is a timeline entry with the old and the new value."""
    files = check_uploads(_tenant_context(), uploads)
    try:
        changed = set_field_values(ticket, by, values)
        stored = store_attachments(ticket, files, uploaded_by=by)
        if stored:
            record_event(ticket, "attachments_added", actor=by, count=len(stored))
            changed.append("attachments")
        if changed:
            ticket.updated_at = utcnow()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return changed


def set_field_values(ticket: Ticket, by: User, values: dict) -> list[str]:
    """Store field values (and the summary) of the request's form; each change is a
    ``field_changed`` timeline entry with the old and the new value. The caller commits."""
    from app.catalog.models import Field
    from app.tickets.models import TicketFieldValue

    changed = []
    for key, value in values.items():
        if key == "summary":
            value = single_line(value).strip()[:500]
            if value and value != ticket.summary:
                record_event(ticket, "field_changed", actor=by, field="summary", old=ticket.summary, new=value)
                ticket.summary = value
                changed.append(key)
            continue
        field = db.session.execute(
            select(Field).where(Field.form_id == ticket.request_type.form_id, Field.key == key)
        ).scalar_one_or_none()
        if field is None:
            continue
        row = db.session.execute(
            select(TicketFieldValue).where(
                TicketFieldValue.ticket_id == ticket.id, TicketFieldValue.field_id == field.id
            )
        ).scalar_one_or_none()
        old = row.value if row else None
        if value in ("", []):
            value = None
        if value == old:
            continue
        if row is None:
            db.session.add(
                TicketFieldValue(
                    ticket_id=ticket.id, field_id=field.id, value=value, value_text=TicketFieldValue.text_of(value)
                )
            )
        else:
            row.value, row.value_text = value, TicketFieldValue.text_of(value)
        record_event(ticket, "field_changed", actor=by, field=key, old=old, new=value)
        changed.append(key)
    if changed:
        ticket.updated_at = utcnow()
        from app.automation.sla import current_policy, refresh_targets

        policy = current_policy()
        if policy is not None and policy.field in changed:
            db.session.flush()
            refresh_targets(ticket, policy)
    return changed


def assign_ticket(ticket: Ticket, by: User, assignee_id: int | None) -> None:
    """Assign to an agent of the tenant (or to nobody); a timeline entry records who did it."""
    from flask_babel import gettext as _

    if assignee_id is not None:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or not assignee.is_staff or not assignee.active:
            raise RequestError(_("Requests can only be assigned to agents."))
    if assignee_id == ticket.assignee_id:
        return
    record_event(ticket, "assigned", actor=by, old=ticket.assignee_id, new=assignee_id)
    ticket.assignee_id = assignee_id
    ticket.updated_at = utcnow()
    db.session.commit()


# --- bulk actions (agents) ------------------------------------------------------------------------


def bulk_update(
    tickets, by: User, *, assignee_id: int | None = None, assign: bool = False, status_key: str | None = None
) -> tuple[int, int]:
    """Assign and/or move several requests through the same services and checks as one by one.

    A request whose workflow has no agent step to ``status_key`` from its current status is left as
    it is and counted as skipped. Returns (changed, skipped)."""
    from app.workflow.services import TransitionError, actor_kind, available_transitions

    changed = skipped = 0
    for ticket in tickets:
        try:
            if assign:
                assign_ticket(ticket, by, assignee_id)
            if status_key:
                step = next(
                    (
                        t
                        for t in available_transitions(ticket, actor_kind(by))
                        if t.to_status.key == status_key and not t.requires
                    ),
                    None,
                )
                if step is None:
                    skipped += 1
                    continue
                take_transition(ticket, by, step.id)
            changed += 1
        except (RequestError, TransitionError):
            db.session.rollback()
            skipped += 1
    return changed, skipped


# --- related requests and duplicates (agents) ---------------------------------------------------


def _by_reference(reference: str) -> Ticket:
    from flask_babel import gettext as _

    other = db.session.execute(
        select(Ticket).where(Ticket.reference == (reference or "").strip().upper())
    ).scalar_one_or_none()
    if other is None:
        raise RequestError(_("There is no request %(reference)s.", reference=(reference or "").strip()), "reference")
    return other


def link_tickets(ticket: Ticket, by: User, reference: str, kind: str = "relates") -> Ticket:
    from flask_babel import gettext as _

    from app.tickets.models import TicketLink

    other = _by_reference(reference)
    if other.id == ticket.id:
        raise RequestError(_("A request cannot be linked to itself."), "reference")
    existing = db.session.execute(
        select(TicketLink).where(
            ((TicketLink.ticket_id == ticket.id) & (TicketLink.other_id == other.id))
            | ((TicketLink.ticket_id == other.id) & (TicketLink.other_id == ticket.id))
        )
    ).scalar_one_or_none()
    if existing is None:
        db.session.add(TicketLink(ticket_id=ticket.id, other_id=other.id, kind=kind, created_by_id=by.id))
        record_event(ticket, "linked", actor=by, other=other.reference, link=kind)
        record_event(other, "linked", actor=by, other=ticket.reference, link=kind)
    elif kind == "duplicate":
        existing.kind = kind
    db.session.commit()
    return other


def merge_into(ticket: Ticket, by: User, reference: str) -> Ticket:
    """Close ``ticket`` as a duplicate of another request: its followers move to the other one, both
    get a note, and the duplicate is closed (a final status)."""
    from flask_babel import gettext as _

    from app.tickets.models import Comment, Participant, Watcher
    from app.workflow.models import Status
    from app.workflow.services import move_to_status

    if ticket.status.is_final:
        raise RequestError(_("This request is already closed."))
    target = link_tickets(ticket, by, reference, kind="duplicate")
    followers = set(db.session.scalars(select(Watcher.user_id).where(Watcher.ticket_id == ticket.id)))
    already = set(db.session.scalars(select(Watcher.user_id).where(Watcher.ticket_id == target.id)))
    for user_id in followers - already - {target.requester_id}:
        db.session.add(Watcher(ticket_id=target.id, user_id=user_id))
        if not db.session.execute(
            select(Participant.id).where(Participant.ticket_id == target.id, Participant.user_id == user_id)
        ).first():
            db.session.add(Participant(ticket_id=target.id, user_id=user_id, added_by_id=by.id))
    db.session.add(
        Comment(
            ticket_id=ticket.id,
            author_id=by.id,
            body=_("Closed as a duplicate of %(reference)s.", reference=target.reference),
        )
    )
    db.session.add(
        Comment(
            ticket_id=target.id,
            author_id=by.id,
            is_internal=True,
            body=_("%(reference)s was merged into this request.", reference=ticket.reference),
        )
    )
    closed = db.session.scalars(select(Status).where(Status.category == "closed").order_by(Status.position)).first()
    move_to_status(ticket, closed, actor_user=by, merged_into=target.reference)
    db.session.commit()
    return target


def change_request_type(ticket: Ticket, by: User, request_type_id: int) -> None:
    """Move a request to another request type (and its portal); values of fields the new form also
    has stay, the others stay stored but are no longer shown. The status is kept."""
    from flask_babel import gettext as _

    new_type = db.session.get(RequestType, request_type_id)
    if new_type is None:
        raise RequestError(_("Please choose a request type."))
    if new_type.id == ticket.request_type_id:
        return
    record_event(ticket, "field_changed", actor=by, field="request_type", old=ticket.request_type.key, new=new_type.key)
    ticket.request_type_id = new_type.id
    ticket.request_type = new_type
    ticket.portal_id = new_type.portal_id
    ticket.updated_at = utcnow()
    db.session.commit()


# --- forwarding a summary to someone outside (agents) ---------------------------------------------


def forward_summary(ticket: Ticket, by: User, email: str, note: str = "") -> User:
    """E-mail a summary of the request to an outside address (Flexinform: a question for the
    federation). The address becomes a participant without a login link or notifications, so that
    their reply by e-mail lands on the request as a comment (and reopens it by the tenant's rules).
    Where the tenant says so (``settings.forward_status``), the request then moves to that status
    by the agent's workflow step."""
    from flask import current_app
    from flask_babel import gettext as _

    from app.accounts.users import create_user, find_user, normalize_email
    from app.catalog.services import form_fields
    from app.notifications.composer import subject_tag, support_address
    from app.notifications.links import reply_address, thread_root_id
    from app.notifications.services import queue_email
    from app.tickets.models import Comment, Participant, TicketFieldValue
    from app.workflow.services import actor_kind, available_transitions, apply_transition

    if ticket.status.is_final:
        raise RequestError(_("This request is already closed."))
    address = normalize_email(email or "")
    if "@" not in address or " " in address or len(address) > 320 or "." not in address.rsplit("@", 1)[-1]:
        raise RequestError(_("Please enter a valid e-mail address."), "email")
    tenant = _tenant_context()
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
    target = (tenant.settings or {}).get("forward_status")
    if target:
        step = next(
            (t for t in available_transitions(ticket, actor_kind(by)) if t.to_status.key == target and not t.requires),
            None,
        )
        if step is not None:
            apply_transition(ticket, step, actor_user=by)
    ticket.updated_at = utcnow()
    db.session.commit()
    return outsider
