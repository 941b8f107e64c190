"""The kinds of security event and their wording, in the reader's language when shown.

A ``SecurityEvent`` stores ``kind`` and ``params`` (values only: roles, organization names,
e-mail addresses, counts), never sentences; ``describe_event`` words it for whoever reads the
trail, like ``app.tenancy.changes.describe_change`` does for configuration changes.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LOGIN_SUCCEEDED = "login_succeeded"
LOGIN_FAILED = "login_failed"
ACCOUNT_LOCKED = "account_locked"
LOGOUT = "logout"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"
EMAIL_CHANGE_REQUESTED = "email_change_requested"
EMAIL_CHANGED = "email_changed"
ROLE_CHANGED = "role_changed"
USER_DEACTIVATED = "user_deactivated"
USER_REACTIVATED = "user_reactivated"
USER_INVITED = "user_invited"
MEMBERSHIP_CHANGED = "membership_changed"
CONFIG_EXPORTED = "config_exported"
CONFIG_IMPORTED = "config_imported"
TENANT_SUSPENDED = "tenant_suspended"
TENANT_RESUMED = "tenant_resumed"
INBOUND_HELD = "inbound_held"

# One whole sentence per kind; the placeholders are the event's params (and ``email``, the address
# the event names). Unknown kinds (written by a newer version) are shown by their key.
SENTENCES = {
    LOGIN_SUCCEEDED: _l("Signed in"),
    LOGIN_FAILED: _l("Failed sign-in as %(email)s"),
    ACCOUNT_LOCKED: _l("Sign-in for %(email)s paused after %(failures)s failed attempts"),
    LOGOUT: _l("Signed out"),
    PASSWORD_CHANGED: _l("Password changed"),
    PASSWORD_RESET: _l("Password set from an e-mailed link"),
    EMAIL_CHANGE_REQUESTED: _l("Change of e-mail address to %(new_email)s requested"),
    EMAIL_CHANGED: _l("E-mail address changed from %(old_email)s to %(new_email)s"),
    ROLE_CHANGED: _l("Role changed from %(old_role)s to %(new_role)s"),
    USER_DEACTIVATED: _l("Account deactivated"),
    USER_REACTIVATED: _l("Account reactivated"),
    USER_INVITED: _l("Invited as %(role)s"),
    MEMBERSHIP_CHANGED: _l("Membership of %(organization)s changed: %(change)s"),
    CONFIG_EXPORTED: _l("Configuration exported"),
    CONFIG_IMPORTED: _l("Configuration imported"),
    TENANT_SUSPENDED: _l("Portal suspended by the platform operator"),
    TENANT_RESUMED: _l("Portal resumed by the platform operator"),
    INBOUND_HELD: _l("E-mail from %(email)s held for review: the sender could not be confirmed"),
}

KINDS = tuple(SENTENCES)

# Params whose values are keys, worded for the reader: a role is stored as ``agent`` and read as the
# people admin names it (the same msgids as ``app.admin.views.ROLE_LABELS``, so the same translations).
ROLE_NAMES = {"customer": _l("Customer"), "agent": _l("Agent"), "admin": _l("Tenant admin")}
WORDED_PARAMS = {"role": ROLE_NAMES, "old_role": ROLE_NAMES, "new_role": ROLE_NAMES}


def word_param(name: str, value):
    """A param's value as the reader reads it: known keys (roles) in the current locale, others as stored."""
    labels = WORDED_PARAMS.get(name)
    if labels is not None and isinstance(value, str) and value in labels:
        return str(labels[value])
    return value


# Kinds whose sentence depends on one param's value (a key), so each variant stays a whole sentence
# for translators; an unknown value falls back to the kind's sentence in SENTENCES.
SENTENCE_VARIANTS = {
    MEMBERSHIP_CHANGED: (
        "change",
        {
            "added": _l("Added to %(organization)s as a member"),
            "added_as_admin": _l("Added to %(organization)s as an organization admin"),
            "made_admin": _l("Made an organization admin of %(organization)s"),
            "made_member": _l("No longer an organization admin of %(organization)s, still a member"),
            "removed": _l("Removed from %(organization)s"),
        },
    ),
}


def describe_event(kind: str, email: str = "", params: dict | None = None) -> str:
    """The event as one sentence in the current locale."""
    sentence = SENTENCES.get(kind)
    if sentence is None:
        return kind
    if kind in SENTENCE_VARIANTS:
        name, variants = SENTENCE_VARIANTS[kind]
        value = (params or {}).get(name)
        sentence = variants.get(value, sentence) if isinstance(value, str) else sentence
    values = {"email": email, **{name: word_param(name, value) for name, value in (params or {}).items()}}
    try:
        return str(sentence) % values
    except (KeyError, TypeError, ValueError):
        return str(sentence)
