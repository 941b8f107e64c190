"""A tenant's ``settings`` (``tenant.yaml``) as one typed object, every default in one place.

The definition's schema validates the keys (``tenants/definition.schema.json``); here they are read:
``tenant_settings(tenant)`` parses a tenant's settings once per configuration version (every
configuration edit bumps ``config_version``) and hands out the same frozen object until the next one.
Modules read attributes (``tenant_settings(tenant).max_attachments``) instead of ``.get(key, default)``
with their own copy of the default. Keys this version does not know are ignored, as before.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.caching import ProcessCache


@dataclass(frozen=True)
class NotificationSettings:
    """``settings.notifications``: who hears of what, and how changes are batched."""

    batch_seconds: int = 60  # changes to one request for one recipient within this window: one e-mail
    cc_field: str | None = None  # a text field holding CC addresses (Festum's Kopio)
    cc_from: str = "first_agent_reply"  # when CC addresses start getting the thread: or "start"
    agents: str = "assignee_or_all"  # which agents hear of new requests: or "assignee", "none"
    on_created: bool = True  # confirm a new request to its requester

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> NotificationSettings:
        defaults = cls()
        return cls(
            batch_seconds=int(raw.get("batch_seconds", defaults.batch_seconds)),
            cc_field=raw.get("cc_field") or None,
            cc_from=raw.get("cc_from", defaults.cc_from),
            agents=raw.get("agents", defaults.agents),
            on_created=bool(raw.get("on_created", defaults.on_created)),
        )


@dataclass(frozen=True)
class TenantSettings:
    """Every key of ``settings`` with its type and default."""

    # E-mail in and out.
    support_email: str | None = None
    subject_tag: str = "{reference}"  # e.g. 'Festum #{number}'
    email_request_type: str | None = None  # '<portal>/<request type>' of requests created by e-mail
    unknown_sender: str = "reject"  # or "create_account"
    email_cc_participants: bool = False
    max_email_mb: int = 25
    email_rate_per_hour: int = 20
    # Requests.
    default_sharing: str = "private"  # or "organization"
    max_attachment_mb: int = 20
    max_attachments: int = 10
    editable_after_creation: tuple[str, ...] = ()
    forward_status: str | None = None
    # Time: ``{"days": [...], "start": "08:00", "end": "16:00", "holidays": [...]}`` as in tenant.yaml,
    # read by ``app.automation.calendar``; None without business hours.
    business_hours: Mapping[str, Any] | None = None
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> TenantSettings:
        raw = raw or {}
        defaults = cls()
        return cls(
            support_email=raw.get("support_email") or None,
            subject_tag=raw.get("subject_tag") or defaults.subject_tag,
            email_request_type=raw.get("email_request_type") or None,
            unknown_sender=raw.get("unknown_sender", defaults.unknown_sender),
            email_cc_participants=bool(raw.get("email_cc_participants", defaults.email_cc_participants)),
            max_email_mb=int(raw.get("max_email_mb", defaults.max_email_mb)),
            email_rate_per_hour=int(raw.get("email_rate_per_hour", defaults.email_rate_per_hour)),
            default_sharing=raw.get("default_sharing", defaults.default_sharing),
            max_attachment_mb=int(raw.get("max_attachment_mb", defaults.max_attachment_mb)),
            max_attachments=int(raw.get("max_attachments", defaults.max_attachments)),
            editable_after_creation=tuple(raw.get("editable_after_creation", ())),
            forward_status=raw.get("forward_status") or None,
            business_hours=dict(raw["business_hours"]) if raw.get("business_hours") else None,
            notifications=NotificationSettings.from_mapping(raw.get("notifications") or {}),
        )


_cache = ProcessCache("tenant-settings")


def tenant_settings(tenant) -> TenantSettings:
    """The settings of ``tenant`` (a ``Tenant`` row or a ``TenantContext`` snapshot), parsed once per
    configuration version. A change stored without a version bump (a test, a fix by hand) is still
    seen: the cached object is kept only while the stored mapping is the one it was parsed from."""
    raw = getattr(tenant, "settings", None) or {}
    version = getattr(tenant, "config_version", None)
    if version is None:
        return TenantSettings.from_mapping(raw)
    key = (tenant.id, version)
    cached = _cache.get(key)
    if cached is not None and cached[0] == raw:
        return cached[1]
    parsed = TenantSettings.from_mapping(raw)
    _cache.set(key, (copy.deepcopy(raw), parsed))
    return parsed
