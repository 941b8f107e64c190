"""The console's blueprint and what its views share: access, page context, applying an edit.

Each page loads the definition (the export), lets a pure editor (``<section>.py``) change a copy
of it and hands that to ``app.admin.services.change`` (the validator and ``apply_definition`` of
``flask tenants sync``). Problems travel as ``Problem`` objects (text and the attribute they are
about) from the form or the validator to the page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from app.accounts.policy import is_tenant_admin
from app.admin import services
from app.admin.config.editing import moved
from app.admin.config.inputs import MoveForm
from app.admin.services import ConsoleError, Problem
from app.admin.summaries import describe_summary
from app.tenancy.changes import describe_change

bp = Blueprint("config", __name__, url_prefix="/config")

FIELD_TYPE_LABELS = {
    "text": _l("Text"),
    "textarea": _l("Long text"),
    "number": _l("Number"),
    "date": _l("Date"),
    "select": _l("Choice"),
    "multiselect": _l("Multiple choice"),
    "checkbox": _l("Checkbox"),
    "email": _l("E-mail address"),
    "phone": _l("Phone number"),
    "files": _l("Files"),
}
CATEGORY_LABELS = {"open": _l("Open"), "waiting": _l("Waiting"), "resolved": _l("Resolved"), "closed": _l("Closed")}
ACTOR_LABELS = {"customer": _l("Customer"), "agent": _l("Agent"), "system": _l("System (automation)")}
TRIGGER_LABELS = {
    "status_age": _l("Time in a status"),
    "customer_comment": _l("Customer comment"),
    "email_reply": _l("E-mail reply"),
    "status_entered": _l("Status entered"),
}
NOTIFY_LABELS = {"requester": _l("The requester"), "watchers": _l("The watchers"), "agents": _l("The agents")}

Edit = Callable[[dict], dict]


@bp.before_request
def _tenant_admins_only():
    if not is_tenant_admin(current_user):
        abort(404)


@bp.context_processor
def _console_globals():
    tenant = g.get("tenant")  # None on an error page (the 404 handler forgets the tenant)
    return {
        "tenant_languages": list(tenant.locales) if tenant else [],
        "field_type_labels": FIELD_TYPE_LABELS,
        "category_labels": CATEGORY_LABELS,
        "actor_labels": ACTOR_LABELS,
        "trigger_labels": TRIGGER_LABELS,
        "notify_labels": NOTIFY_LABELS,
        "text_of": text_of,
        "change_text": describe_change,
        "summary_text": describe_summary,
    }


def text_of(texts) -> str:
    """A localized text in the admin's language for lists (falls back to any language)."""
    from app.templating import localized

    return localized(texts) if isinstance(texts, dict) else (texts or "")


def current() -> dict:
    """The current tenant's definition, every optional key present."""
    return services.current_definition(g.tenant.slug)


def apply_edit(edit: Edit, summary: dict) -> dict | None:
    """Apply an editor's change (``summary``: ``summary_of(...)``, stored as data) and flash the
    outcome in the admin's language. Returns the applied definition, or None (the problems kept for
    the page) when the editor or the validator refused it."""
    applied: dict = {}

    def mutate(definition: dict) -> None:
        edited = edit(definition)
        definition.clear()
        definition.update(edited)
        applied.update(edited)

    try:
        report = services.change(g.tenant.slug, mutate, actor=current_user._get_current_object(), summary=summary)
    except ConsoleError as error:
        g.console_problems = error.problems
        return None
    if report.changed:
        flash(_("Saved: %(summary)s.", summary=describe_summary(summary)), "success")
    else:
        flash(_("Nothing changed."), "info")
    return applied


def keep_problems(problems: list[Problem]) -> None:
    """Problems of the input (not applied) for the page being rendered."""
    g.console_problems = problems


def problems() -> list[Problem]:
    return g.get("console_problems", [])


def flash_problems() -> None:
    """For an action whose page is elsewhere (a button in a list): the problems as messages."""
    for problem in problems():
        flash(problem.text, "error")


def render(template: str, **context):
    """A console page with its problems listed above the form and next to their inputs (422 then)."""
    found = problems()
    by_attribute: dict[str, list[str]] = {}
    for problem in found:
        if problem.attribute:
            by_attribute.setdefault(problem.attribute, []).append(problem.text)
    return render_template(template, problems=found, errors_for=by_attribute, **context), (422 if found else 200)


def move_entry(items_of: Callable[[dict], list], summary: dict, endpoint: str, **values):
    """An up/down button: move the posted key in ``items_of(definition)``, back to ``endpoint``."""
    form = MoveForm()
    if apply_edit(lambda d: moved(d, items_of, form.key.data, form.direction.data), summary) is None:
        flash_problems()
    return redirect(url_for(endpoint, **values))
