"""The language of the ``flask`` commands: the operator's, never a tenant's.

A command often works inside a tenant (``g.tenant`` set), where ``select_locale`` would pick the
tenant's default language; what the command tells the operator is in the operator's language:
``PORTAL_CLI_LANGUAGE`` if set, else the POSIX locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``,
``LANG``), else English, among the five UI languages. E-mails a command causes are still written
in their recipient's language (they force it themselves).
"""

from __future__ import annotations

import functools
import os

from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from app.i18n import LANGUAGES
from app.unit_of_work import command_unit


def _ui_language(value: str | None) -> str | None:
    """'hu_HU.UTF-8', 'cs-CZ', 'pl' → the UI language it names, or None."""
    if not value:
        return None
    language = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else None


def _posix_language() -> str | None:
    """The messages language of the POSIX locale, as gettext reads it: ``LANGUAGE`` (a list), then
    the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set. ``LC_CTYPE`` is not a language:
    Python itself sets it to C.UTF-8 when the named locale is not installed (PEP 538), which
    Babel's ``default_locale`` would then take for English."""
    for item in (os.environ.get("LANGUAGE") or "").split(":"):
        if _ui_language(item):
            return _ui_language(item)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return _ui_language(os.environ[name])
    return None


def cli_locale() -> str:
    """The operator's language for command output."""
    return _ui_language(current_app.config.get("PORTAL_CLI_LANGUAGE")) or _posix_language() or "en"


def in_operator_language(command):
    """Run a command's body under ``force_locale(cli_locale())``."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        with force_locale(cli_locale()):
            return command(*args, **kwargs)

    return run


class OperatorGroup(AppGroup):
    """A ``flask`` command group whose commands (and subgroups) speak the operator's language, each
    command one unit of work (``app.unit_of_work.command_unit``: committed once when it ends)."""

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)
        return lambda command: register(in_operator_language(command_unit(command)))

    def group(self, *args, **kwargs):
        kwargs.setdefault("cls", OperatorGroup)
        return super().group(*args, **kwargs)
