"""Notification settings: the batch window, CC addresses, which agents hear of what."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, keep_problems, render
from app.admin.config.editing import copied, set_or_pop
from app.admin.config.inputs import ConsoleForm, Flag, WholeNumber
from app.admin.summaries import summary_of


class NotificationsForm(ConsoleForm):
    batch_seconds = WholeNumber(_l("Batch window"))
    cc_field = StringField(default="")
    cc_from = StringField(default="")
    agents = StringField(default="")
    on_created = Flag()

    def settings(self, values: dict) -> dict:
        """``settings.notifications`` as the inputs set it; defaults are left out."""
        values = dict(values)
        set_or_pop(values, "batch_seconds", self.batch_seconds.number)
        set_or_pop(values, "cc_field", self.cc_field.data or None)
        set_or_pop(values, "cc_from", self.cc_from.data or None)
        set_or_pop(values, "agents", self.agents.data or None)
        values["on_created"] = self.on_created.data
        if values["on_created"]:
            values.pop("on_created")  # the default
        return values


def text_fields(d: dict) -> list[str]:
    """The keys of fields that can hold CC addresses."""
    return sorted(
        {f["key"] for form in d["forms"] for f in form["fields"] if f["type"] in ("text", "textarea", "email")}
    )


def save_notifications(definition: dict, values: dict) -> dict:
    d = copied(definition)
    set_or_pop(d["settings"], "notifications", values or None)
    return d


@bp.route("/notifications", methods=["GET", "POST"])
def notifications():
    d = current()
    values = dict(d["settings"].get("notifications", {}))
    if request.method == "POST":
        form = NotificationsForm()
        if not form.validate():
            keep_problems(form.problems())
        else:
            values = form.settings(values)
            if apply_edit(lambda d: save_notifications(d, values), summary_of("notifications")) is not None:
                return redirect(url_for("admin.config.notifications"))
    return render("admin/config/notifications.html", d=d, values=values, text_fields=text_fields(d))
