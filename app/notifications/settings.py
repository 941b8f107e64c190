"""A tenant's notification settings (``settings.notifications`` of ``tenant.yaml``), read one way by
planning (who hears of what), composing (who may still read it) and e-mail intake (CC addresses)."""

from __future__ import annotations

import re
from datetime import timedelta

from app.tenancy.settings import tenant_settings

_ADDRESS_RE = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")


def batch_window(tenant) -> timedelta:
    """How long the tenant's notifications wait to be sent together (``batch_seconds``)."""
    return timedelta(seconds=tenant_settings(tenant).notifications.batch_seconds)


def cc_addresses(text: str | None) -> list[str]:
    """The addresses in a CC field (commas, semicolons or spaces between them), lower-cased, once each."""
    seen: list[str] = []
    for address in _ADDRESS_RE.findall(text or ""):
        address = address.lower()
        if address not in seen:
            seen.append(address)
    return seen
