"""How people get an account: open registration with a confirmation link, invitations, and the
accounts made for someone who wrote, phoned in or was shared a request.

Answers never tell whether an address is known, and every e-mail a visitor can trigger is throttled.
"""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from app.accounts import ratelimit, tokens
from app.accounts.hashing import hash_password
from app.accounts.models import ROLE_CUSTOMER, ROLES, Organization, User
from app.accounts.organizations import add_membership
from app.accounts.passwords import validate_new_password
from app.accounts.policy import can_invite_as, can_manage_users
from app.accounts.users import AccountError, create_user, find_user, normalize_email
from app.db_types import utcnow
from app.extensions import db
from app.outbox.services import queue_email
from app.security import events
from app.security.services import record_event
from app.security.signing import TokenError


def send_verification(user: User) -> None:
    token = tokens.make_token(tokens.VERIFY_EMAIL, user)
    queue_email(
        kind="verify_email",
        to=user.email,
        user=user,
        template="accounts/email/verify",
        idempotency_key=f"verify:{user.id}:{token[-16:]}",
        link=tokens.link("accounts.verify_email", token=token),
    )


def send_set_password(user: User, *, reason: str = "invitation", **context) -> None:
    """An invitation, or the welcome of an account created from an e-mail, a phone call or a share."""
    token = tokens.make_token(tokens.SET_PASSWORD, user)
    queue_email(
        kind=reason,
        to=user.email,
        user=user,
        template=f"accounts/email/{reason}",
        idempotency_key=f"{reason}:{user.id}:{token[-16:]}",
        link=tokens.link("accounts.set_password", token=token),
        **context,
    )


def register(email: str, name: str, password: str, confirm: str, *, locale: str | None) -> None:
    """Open registration. The same answer whether or not the address is known (no enumeration)."""
    tenant = g.tenant
    if tenant.registration_mode != "open":
        raise AccountError(_("This portal is by invitation only."))
    email = normalize_email(email)
    if not name.strip():
        raise AccountError(_("Please enter your name."), "name")
    validate_new_password(password, confirm, email)
    # Hash before looking the address up: the slow hash is paid whether or not the account exists,
    # so that the answer's timing does not tell (ASVS 2.2.x / user enumeration).
    password_hash = hash_password(password)
    if not ratelimit.allow_mail("registration", recipient=email, tenant_id=tenant.id):
        return  # too many e-mails to this address or from this client: the same answer, no e-mail
    existing = find_user(email)
    if existing is not None:
        queue_email(
            kind="already_registered",
            to=existing.email,
            user=existing,
            template="accounts/email/already_registered",
            idempotency_key=f"already:{existing.id}:{utcnow():%Y%m%d%H}",
            link=tokens.link("accounts.forgot_password"),
        )
        return
    user = create_user(email, name=name, locale=locale)
    user.password_hash = password_hash
    db.session.flush()
    send_verification(user)


def verify_email(token: str) -> User:
    try:
        data = tokens.read_token(tokens.VERIFY_EMAIL, token, g.tenant.id)
    except TokenError as error:
        raise AccountError(
            _("This confirmation link has expired. Log in to get a new one.")
            if error.expired
            else _("This confirmation link is not valid.")
        ) from None
    user = db.session.get(User, data["u"])
    if user is None or user.email != data["e"]:
        raise AccountError(_("This confirmation link is not valid."))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def resend_verification(user: User) -> bool:
    """Send a new confirmation link; False when too many went to this address lately (throttled)."""
    if user.is_verified:
        return True
    if not ratelimit.allow_mail(
        "verification", recipient=user.email, sender=f"user:{user.id}", tenant_id=user.tenant_id
    ):
        return False
    send_verification(user)
    return True


def resend_invitation(user: User, *, by: User) -> None:
    """Send an invitation again (people admin), throttled like every invitation."""
    if user.has_password:
        raise AccountError(_("%(email)s has already set a password.", email=user.email))
    if not ratelimit.allow_mail("invitation", recipient=user.email, tenant_id=user.tenant_id, sender=f"user:{by.id}"):
        raise AccountError(
            _("The invitation could not be sent just now: too many e-mails have been sent. Please try again later.")
        )
    send_set_password(user, reason="invitation")


def invite(
    email: str,
    *,
    name: str = "",
    role: str = ROLE_CUSTOMER,
    organization: Organization | None = None,
    org_admin: bool = False,
    invited_by: User | None = None,
) -> User:
    """Give a person access (invite-only portals): creates the account and sends a set-password link."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 320:
        raise AccountError(_("Please enter a valid e-mail address."), "email")
    if role not in ROLES:
        raise AccountError(_("Please choose a role."), "role")
    # ``invited_by`` is None for the platform (onboarding a tenant's first admin) and the CLI.
    if invited_by is not None and not can_invite_as(invited_by, role, org_admin=org_admin):
        raise AccountError(
            _("Agents may invite customers only. Ask a tenant admin to invite staff or organization admins."), "role"
        )
    user = find_user(email)
    if user is not None and user.has_password:
        raise AccountError(_("%(email)s already has access to this portal.", email=email), "email")
    if not ratelimit.allow_mail(
        "invitation",
        recipient=email,
        tenant_id=g.tenant.id,
        sender=f"user:{invited_by.id}" if invited_by is not None else None,
    ):
        raise AccountError(
            _("The invitation could not be sent just now: too many e-mails have been sent. Please try again later."),
            "email",
        )
    if user is None:
        user = create_user(email, name=name, role=role, locale=g.tenant.default_locale)
        db.session.flush()
    else:
        if user.role != role and invited_by is not None and not can_manage_users(invited_by):
            raise AccountError(_("Only a tenant admin can change the role of %(email)s.", email=email), "role")
        user.role = role
        user.name = name.strip() or user.name
    user.invited_at = utcnow()
    if organization is not None:
        add_membership(user, organization, is_admin=org_admin)
    send_set_password(user, reason="invitation")
    record_event(events.USER_INVITED, tenant_id=user.tenant_id, actor=invited_by, subject=user, role=role)
    return user


def create_contact_account(
    email: str, *, name: str = "", reason: str = "account_created", **context
) -> tuple[User, bool]:
    """An account for someone who wrote or phoned in (Festum) or with whom a request was shared
    (Flexinform): created once, with a set-password link."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 320 or " " in email:
        raise AccountError(_("Please enter a valid e-mail address."), "email")
    user = find_user(email)
    if user is not None:
        return user, False
    user = create_user(email, name=name, role=ROLE_CUSTOMER, locale=g.tenant.default_locale)
    db.session.flush()
    send_set_password(user, reason=reason, **context)
    return user, True
