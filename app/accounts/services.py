"""Account rules: registration, verification, invitations, login, passwords, profile, organizations.

Views call these functions and render their results; e-mails go through the outbox in the same
transaction, in the recipient's language. Errors users can cause are ``AccountError`` with a
translated message; nothing is changed when one is raised.
"""

from __future__ import annotations

import io
import math
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, has_app_context, session, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import func, select

from app.accounts import ratelimit, tokens
from app.accounts.models import ROLE_CUSTOMER, ROLES, Membership, Operator, Organization, User
from app.accounts.policy import can_change_email, can_invite_as, can_manage_users
from app.db_types import utcnow
from app.extensions import db, login_manager
from app.i18n.timezones import TIMEZONES
from app.notifications.services import queue_email
from app.security import events
from app.security.services import record_event

_hashers: dict[tuple[int, int], PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (``PASSWORD_HASH_TIME_COST`` / ``_MEMORY_KIB``).

    Production keeps argon2-cffi's defaults (RFC 9106's low-memory profile); the test suite sets a
    cheap cost so that thousands of logins do not dominate its run time. A hash made with other
    parameters still verifies, since a hash carries its own.
    """
    config = current_app.config if has_app_context() else {}
    key = (int(config.get("PASSWORD_HASH_TIME_COST", 3)), int(config.get("PASSWORD_HASH_MEMORY_KIB", 65536)))
    hasher = _hashers.get(key)
    if hasher is None:
        hasher = _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return hasher


_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash to verify against when no account matches, so that both take the same time."""
    hasher = _hasher()
    ident = id(hasher)
    if ident not in _dummy_hashes:
        _dummy_hashes[ident] = hasher.hash("timing-equalizer")
    return _dummy_hashes[ident]


SESSION_TENANT_KEY = "tenant_id"
# The account's ``session_version`` when the session began (bumping it ends the session), and when
# the session began and was last used (epoch seconds), for the absolute and idle timeouts.
SESSION_VERSION_KEY = "session_version"
SESSION_STARTED_KEY = "session_started"
SESSION_SEEN_KEY = "session_seen"
SEEN_GRANULARITY = 60  # seconds: the last-used time is rewritten at most once a minute
MIN_PASSWORD_LENGTH = 10
AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_SIZE = 256


class AccountError(Exception):
    """A problem the user can fix; ``field`` names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_new_password(password: str, confirm: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH), "password"
        )
    if len(password) > 256:
        raise AccountError(_("The password is too long."), "password")
    if password.strip().lower() == email.strip().lower():
        raise AccountError(_("The password must not be your e-mail address."), "password")
    if password != confirm:
        raise AccountError(_("The two passwords do not match."), "confirm")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


# --- users and organizations ----------------------------------------------------------------


def find_user(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == normalize_email(email))).scalar_one_or_none()


def create_user(
    email: str,
    *,
    name: str = "",
    role: str = ROLE_CUSTOMER,
    password: str | None = None,
    locale: str | None = None,
    verified: bool = False,
) -> User:
    """A user of the current tenant. Caller commits."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        role=role,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        email_verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    return user


def get_or_create_organization(name: str) -> Organization:
    org = db.session.execute(select(Organization).where(Organization.name == name)).scalar_one_or_none()
    if org is None:
        org = Organization(name=name)
        db.session.add(org)
        db.session.flush()
    return org


def create_organization(name: str, *, by: User) -> Organization:
    """A tenant admin creates a customer organization."""
    _require_manager(by)
    name = (name or "").strip()
    if not name:
        raise AccountError(_("Please enter a name."), "name")
    exists = db.session.execute(select(Organization.id).where(func.lower(Organization.name) == name.lower())).first()
    if exists:
        raise AccountError(_("An organization with this name exists already."), "name")
    org = Organization(name=name)
    db.session.add(org)
    db.session.commit()
    return org


def add_membership(user: User, organization: Organization, *, is_admin: bool = False) -> Membership:
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if membership is None:
        membership = Membership(user=user, organization=organization, is_admin=is_admin)
        db.session.add(membership)
    else:
        membership.is_admin = is_admin
    return membership


def remove_membership(user: User, organization: Organization) -> None:
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if membership is not None:
        db.session.delete(membership)


# --- e-mails --------------------------------------------------------------------------------


def _link(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def send_verification(user: User) -> None:
    token = tokens.make_token(tokens.VERIFY_EMAIL, user)
    queue_email(
        kind="verify_email",
        to=user.email,
        user=user,
        template="accounts/email/verify",
        idempotency_key=f"verify:{user.id}:{token[-16:]}",
        link=_link("accounts.verify_email", token=token),
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
        link=_link("accounts.set_password", token=token),
        **context,
    )


# --- registration and invitations ------------------------------------------------------------


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
            link=_link("accounts.forgot_password"),
        )
        db.session.commit()
        return
    user = create_user(email, name=name, locale=locale)
    user.password_hash = password_hash
    db.session.flush()
    send_verification(user)
    db.session.commit()


def verify_email(token: str) -> User:
    try:
        data = tokens.read_token(tokens.VERIFY_EMAIL, token, g.tenant.id)
    except tokens.TokenError as error:
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
        db.session.commit()
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
    db.session.commit()
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
    db.session.commit()


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
    db.session.commit()
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


def set_password_from_link(
    token: str, password: str, confirm: str, *, purpose: str = tokens.SET_PASSWORD, name: str | None = None
) -> User:
    """Accept an invitation or a reset link: set the password (the link then stops working)."""
    try:
        data = tokens.read_token(purpose, token, g.tenant.id)
    except tokens.TokenError as error:
        raise AccountError(
            _("This link has expired. Ask for a new one.")
            if error.expired
            else _("This link is not valid or has already been used.")
        ) from None
    user = db.session.get(User, data["u"])
    if not tokens.token_matches_user(data, user) or not user.active:
        raise AccountError(_("This link is not valid or has already been used."))
    validate_new_password(password, confirm, user.email)
    if name is not None and name.strip():
        user.name = name.strip()
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or utcnow()  # the link came by e-mail
    end_sessions(user)  # whoever was logged in with the old password is not any more
    record_event(events.PASSWORD_RESET, tenant_id=user.tenant_id, actor=user, subject=user)
    if purpose == tokens.RESET_PASSWORD:  # an invitation's first password needs no notice
        _send_password_changed(user)
    db.session.commit()
    ratelimit.forget_login_failures(str(user.tenant_id), user.email)
    return user


def user_for_link(token: str, purpose: str) -> User | None:
    try:
        data = tokens.read_token(purpose, token, g.tenant.id)
    except tokens.TokenError:
        return None
    user = db.session.get(User, data["u"])
    return user if tokens.token_matches_user(data, user) and user.active else None


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists. The caller shows the same answer either way."""
    if not ratelimit.allow_mail("password_reset", recipient=normalize_email(email), tenant_id=g.tenant.id):
        return  # too many requests for this address or from this client: the same answer, no e-mail
    user = find_user(email)
    if user is None or not user.active:
        return
    token = tokens.make_token(tokens.RESET_PASSWORD, user)
    queue_email(
        kind="password_reset",
        to=user.email,
        user=user,
        template="accounts/email/password_reset",
        idempotency_key=f"reset:{user.id}:{token[-16:]}",
        link=_link("accounts.reset_password", token=token),
    )
    db.session.commit()


# --- login ----------------------------------------------------------------------------------


class LoginThrottled(AccountError):
    """Too many failed logins: the account (or the client address) waits ``retry_after`` seconds."""

    def __init__(self, seconds: int):
        super().__init__(login_wait_message(seconds))
        self.retry_after = max(1, int(seconds))


def login_wait_message(seconds: float) -> str:
    """The translated "please wait" of a slowed-down login, in whole minutes (at least one)."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed login attempts. Please wait %(num)d minute and try again.",
        "Too many failed login attempts. Please wait %(num)d minutes and try again.",
        minutes,
    )


def _throttled_login(scope: str, email: str, password: str, find, *, tenant_id: int | None):
    """Check credentials found by ``find(email)``, with a back-off per account.

    After ``ratelimit.FREE_FAILURES`` failures in a row the address waits (growing with each further
    failure), whether or not an account has it; a success forgets its failures. Every attempt goes
    to the security trail; a failed one is committed at once, since nothing else is. The client
    address is slowed down by the login views' route limit, which counts failures only.
    """
    email = normalize_email(email)
    wait = ratelimit.login_wait_seconds(scope, email)
    if wait:
        raise LoginThrottled(wait)
    account = find(email)
    if account is None:
        verify_password(_dummy_hash(), password)  # the same time whether or not the account exists
        ok = False
    else:
        ok = verify_password(account.password_hash, password) and account.active
    user = account if isinstance(account, User) else None  # the trail's subject is a tenant user
    if not ok:
        failures, locked_for = ratelimit.count_login_failure(scope, email)
        record_event(events.LOGIN_FAILED, tenant_id=tenant_id, subject=user, email=email)
        if locked_for:
            record_event(events.ACCOUNT_LOCKED, tenant_id=tenant_id, subject=user, email=email, failures=failures)
        db.session.commit()
        raise AccountError(_("The e-mail address or the password is not correct."))
    ratelimit.forget_login_failures(scope, email)
    record_event(events.LOGIN_SUCCEEDED, tenant_id=tenant_id, actor=account, subject=user)
    return account


def authenticate(email: str, password: str) -> User:
    """A tenant user's login."""
    user = _throttled_login(str(g.tenant.id), email, password, find_user, tenant_id=g.tenant.id)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def authenticate_operator(email: str, password: str) -> Operator:
    """The platform operator's login, on the bare domain."""
    operator = _throttled_login(
        "platform",
        email,
        password,
        lambda address: db.session.execute(select(Operator).where(Operator.email == address)).scalar_one_or_none(),
        tenant_id=None,
    )
    db.session.commit()
    return operator


def start_session(account: User | Operator) -> None:
    """Log in a tenant user (or, on the bare domain, an operator) with a fresh session.

    The session records the account's ``session_version`` and when it began; ``load_user`` refuses
    it once the version moves on or a timeout passes. There is no "keep me logged in" cookie: at
    ASVS level 2 a login must end after 12 hours or 30 minutes idle anyway, which is exactly what
    such a cookie would get around (and a copy of it would outlive every logout).
    """
    from flask_login import login_user

    language = session.get("lang")
    session.clear()  # no session fixation: a fresh session for the logged-in account
    if language:
        session["lang"] = language
    tenant = g.get("tenant")
    if tenant is not None:
        session[SESSION_TENANT_KEY] = tenant.id
    session[SESSION_VERSION_KEY] = account.session_version
    session[SESSION_STARTED_KEY] = session[SESSION_SEEN_KEY] = _now()
    login_user(account, remember=False)


def end_sessions(account: User | Operator) -> None:
    """End every session of the account made so far (on every device, copied cookies included) by
    moving its ``session_version`` on. The caller commits."""
    account.session_version = (account.session_version or 1) + 1


def log_out(account) -> None:
    """Log out: this session and every other one of the account end (a copied cookie too)."""
    from flask_login import logout_user

    if getattr(account, "is_authenticated", False):
        end_sessions(account)
        is_operator = isinstance(account, Operator)
        record_event(
            events.LOGOUT,
            tenant_id=None if is_operator else account.tenant_id,
            actor=account,
            subject=None if is_operator else account,
            email=account.email,
        )
        db.session.commit()
    logout_user()
    _forget_login()


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """Change one's own password: other sessions end, this one goes on, and the address is told."""
    if not verify_password(user.password_hash, current):
        raise AccountError(_("The current password is not correct."), "current")
    validate_new_password(new, confirm, user.email)
    user.password_hash = hash_password(new)
    end_sessions(user)
    session[SESSION_VERSION_KEY] = user.session_version  # this session is the one that stays
    record_event(events.PASSWORD_CHANGED, tenant_id=user.tenant_id, actor=user, subject=user)
    _send_password_changed(user)
    db.session.commit()


def _send_password_changed(user: User) -> None:
    """Tell the account's address that its password changed ("if this was not you...")."""
    queue_email(
        kind="password_changed",
        to=user.email,
        user=user,
        template="accounts/email/password_changed",
        idempotency_key=f"password-changed:{user.id}:{user.session_version}",
        link=_link("accounts.forgot_password"),
    )


# --- profile --------------------------------------------------------------------------------


def update_profile(user: User, *, name: str, locale: str, timezone: str) -> None:
    if not name.strip():
        raise AccountError(_("Please enter your name."), "name")
    if locale not in g.tenant.locales:
        raise AccountError(_("Please choose one of the languages offered."), "locale")
    if timezone not in TIMEZONES and timezone != "UTC":
        raise AccountError(_("Please choose a time zone from the list."), "timezone")
    user.name = name.strip()[:200]
    user.locale = locale
    user.timezone = timezone
    db.session.commit()
    session["lang"] = locale


def set_avatar(user: User, upload) -> None:
    """Store a profile picture: checked (type, size), resized to a square, stored per tenant."""
    from PIL import Image, UnidentifiedImageError

    from app.storage import StorageError, get_storage, make_key

    data = upload.read(AVATAR_MAX_BYTES + 1)
    if len(data) > AVATAR_MAX_BYTES:
        raise AccountError(
            _("The picture is too large (at most %(size)s MB).", size=AVATAR_MAX_BYTES // (1024 * 1024)), "avatar"
        )
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
            raise AccountError(_("Please upload a PNG, JPEG, GIF or WebP picture."), "avatar")
        image.thumbnail((4096, 4096))
        image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise AccountError(_("Please upload a PNG, JPEG, GIF or WebP picture."), "avatar") from None
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((AVATAR_SIZE, AVATAR_SIZE))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    out.seek(0)
    key = make_key(user.tenant_id, "avatars", user.id)
    storage = get_storage()
    try:
        storage.put(key, out, "image/png")
    except StorageError:
        raise AccountError(_("The picture could not be saved just now. Please try again later."), "avatar") from None
    old = user.avatar_key
    user.avatar_key = key
    db.session.commit()
    if old:
        try:
            storage.delete(old)
        except StorageError:
            pass


# --- administration -------------------------------------------------------------------------


def _require_manager(by) -> None:
    """Roles, addresses, (de)activation and organizations are the tenant admins' (policy.py)."""
    if not can_manage_users(by):
        raise AccountError(_("Only tenant admins can do this."))


def change_role(user: User, role: str, *, by: User) -> None:
    """A tenant admin gives another role; the person's sessions end (their powers changed)."""
    _require_manager(by)
    if role not in ROLES:
        raise AccountError(_("Please choose a role."), "role")
    if user.id == by.id and role != user.role:
        raise AccountError(_("You cannot change your own role."), "role")
    if role == user.role:
        return
    old_role, user.role = user.role, role
    end_sessions(user)
    record_event(
        events.ROLE_CHANGED, tenant_id=user.tenant_id, actor=by, subject=user, old_role=old_role, new_role=role
    )
    db.session.commit()


def set_active(user: User, active: bool, *, by: User) -> None:
    """Deactivate (the person's sessions end) or reactivate (they log in again) an account."""
    _require_manager(by)
    if user.id == by.id and not active:
        raise AccountError(_("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    end_sessions(user)
    record_event(
        events.USER_REACTIVATED if active else events.USER_DEACTIVATED, tenant_id=user.tenant_id, actor=by, subject=user
    )
    db.session.commit()


def request_email_change(user: User, new_email: str, *, by: User) -> bool:
    """Ask for a person's login and notification address to change (a tenant admin, for support).

    Nothing changes yet: the new address gets a confirmation link and the current one a notice, so
    that nobody can move an account to an address they do not hold, nor unnoticed. False if the
    address is the same.
    """
    if not can_change_email(by):
        raise AccountError(_("Only tenant admins can change e-mail addresses."), "email")
    new_email = normalize_email(new_email)
    if "@" not in new_email or len(new_email) > 320 or " " in new_email:
        raise AccountError(_("Please enter a valid e-mail address."), "email")
    if new_email == user.email:
        return False
    if find_user(new_email) is not None:
        raise AccountError(_("Another account already uses %(email)s.", email=new_email), "email")
    token = tokens.make_token(tokens.CHANGE_EMAIL, user, n=new_email)
    queue_email(
        kind="email_change_confirm",
        to=new_email,
        user=user,
        template="accounts/email/email_change_confirm",
        idempotency_key=f"email-change:{user.id}:{token[-16:]}",
        new_email=new_email,
        link=_link("accounts.confirm_email_change", token=token),
    )
    queue_email(
        kind="email_change_requested",
        to=user.email,
        user=user,
        template="accounts/email/email_change_requested",
        idempotency_key=f"email-change-notice:{user.id}:{token[-16:]}",
        new_email=new_email,
    )
    record_event(events.EMAIL_CHANGE_REQUESTED, tenant_id=user.tenant_id, actor=by, subject=user, new_email=new_email)
    db.session.commit()
    return True


def email_change_for_link(token: str) -> tuple[User, str]:
    """The person and the new address of a confirmation link, if it is still good; else AccountError."""
    try:
        data = tokens.read_token(tokens.CHANGE_EMAIL, token, g.tenant.id)
    except tokens.TokenError as error:
        raise AccountError(
            _("This confirmation link has expired. Ask for the change again.")
            if error.expired
            else _("This link is not valid or has already been used.")
        ) from None
    user = db.session.get(User, data["u"])
    if not tokens.token_matches_user(data, user) or not user.active or not isinstance(data.get("n"), str):
        raise AccountError(_("This link is not valid or has already been used."))
    return user, data["n"]


def confirm_email_change(token: str) -> User:
    """The new address confirmed the change: it becomes the login, the old address is told, and the
    person's sessions end (they log in with the new address)."""
    user, new_email = email_change_for_link(token)
    if find_user(new_email) is not None:
        raise AccountError(_("Another account already uses %(email)s.", email=new_email))
    old_email = user.email
    user.email = new_email
    user.email_verified_at = utcnow()  # the link reached the new address
    end_sessions(user)
    queue_email(
        kind="email_changed",
        to=old_email,
        user=user,
        template="accounts/email/email_changed",
        idempotency_key=f"email-changed:{user.id}:{user.session_version}",
        old_email=old_email,
        new_email=new_email,
    )
    record_event(
        events.EMAIL_CHANGED,
        tenant_id=user.tenant_id,
        actor=user,
        subject=user,
        email=old_email,
        old_email=old_email,
        new_email=new_email,
    )
    db.session.commit()
    return user


def set_membership(user: User, organization: Organization, *, is_admin: bool, by: User) -> None:
    """A tenant admin adds a member, or makes one organization admin or plain member again."""
    _require_manager(by)
    existing = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if existing is None:
        change = "added_as_admin" if is_admin else "added"
    elif existing.is_admin != is_admin:
        change = "made_admin" if is_admin else "made_member"
    else:
        return
    add_membership(user, organization, is_admin=is_admin)
    record_event(
        events.MEMBERSHIP_CHANGED,
        tenant_id=user.tenant_id,
        actor=by,
        subject=user,
        organization=organization.name,
        change=change,
    )
    db.session.commit()


def end_membership(user: User, organization: Organization, *, by: User) -> None:
    """A tenant admin takes someone out of an organization."""
    _require_manager(by)
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if membership is None:
        return
    db.session.delete(membership)
    record_event(
        events.MEMBERSHIP_CHANGED,
        tenant_id=user.tenant_id,
        actor=by,
        subject=user,
        organization=organization.name,
        change="removed",
    )
    db.session.commit()


# --- sessions -------------------------------------------------------------------------------


@login_manager.user_loader
def load_user(user_id: str):
    """Load the session's user: a tenant user within the current tenant only, an operator only
    on the bare domain (cookies are host-only as well)."""
    kind, _sep, raw_id = (user_id or "").partition(":")
    try:
        ident = int(raw_id)
    except ValueError:
        return None
    tenant = g.get("tenant")
    if kind == "operator":
        if tenant is not None:
            return None
        account = db.session.get(Operator, ident)
    elif kind == "user" and tenant is not None and session.get(SESSION_TENANT_KEY) == tenant.id:
        account = db.session.get(User, ident)
        if account is not None and account.tenant_id != tenant.id:
            return None
    else:
        return None
    if account is None or not account.active or not _session_is_current(account):
        _forget_login()
        return None
    return account


def _now() -> int:
    return int(time.time())


def _session_is_current(account) -> bool:
    """The session was made for the account's current ``session_version`` and has neither been idle
    longer than ``SESSION_IDLE_MINUTES`` nor lasted longer than ``SESSION_MAX_HOURS``."""
    version, started, seen = (
        session.get(SESSION_VERSION_KEY),
        session.get(SESSION_STARTED_KEY),
        session.get(SESSION_SEEN_KEY),
    )
    if version != account.session_version or not isinstance(started, int) or not isinstance(seen, int):
        return False
    now = _now()
    config = current_app.config
    if (
        now - seen > int(config.get("SESSION_IDLE_MINUTES", 30)) * 60
        or now - started > int(config.get("SESSION_MAX_HOURS", 12)) * 3600
    ):
        return False
    if now - seen >= SEEN_GRANULARITY:
        session[SESSION_SEEN_KEY] = now
    return True


def _forget_login() -> None:
    """Drop a refused or ended login from the session (the language and the rest stay)."""
    for key in (
        "_user_id",
        "_fresh",
        "_id",
        SESSION_TENANT_KEY,
        SESSION_VERSION_KEY,
        SESSION_STARTED_KEY,
        SESSION_SEEN_KEY,
    ):
        session.pop(key, None)
