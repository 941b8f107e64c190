"""UI texts: the tenant's own wording of the catalog's texts, per language (the English text is the key)."""

from __future__ import annotations

from flask import g, redirect, request, url_for
from flask_babel import gettext as _
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, render
from app.admin.config.editing import copied, refuse
from app.admin.config.inputs import ConsoleForm, Flag, strip
from app.admin.summaries import summary_of


class StringOverrideForm(ConsoleForm):
    language = StringField(default="")
    msgid = StringField(filters=[strip], default="")
    text = StringField(filters=[strip], default="")
    delete = Flag()


def save_string(definition: dict, language: str, msgid: str, text: str) -> dict:
    """Set the tenant's wording of ``msgid`` in ``language``."""
    if not msgid:
        refuse(_("Enter the English text of the catalog to override."), "msgid")
    if not text:
        refuse(_("Enter the tenant's wording."), "text")
    d = copied(definition)
    d["strings"].setdefault(language, {})[msgid] = text
    return d


def delete_string(definition: dict, language: str, msgid: str) -> dict:
    """Back to the catalog's wording of ``msgid`` in ``language``."""
    if not msgid:
        refuse(_("Enter the English text of the catalog to override."), "msgid")
    d = copied(definition)
    texts = d["strings"].get(language, {})
    texts.pop(msgid, None)
    if not texts:
        d["strings"].pop(language, None)
    return d


@bp.route("/strings", methods=["GET", "POST"])
def strings():
    d = current()
    entry = {"language": g.tenant.default_locale, "msgid": "", "text": ""}
    if request.method == "POST":
        form = StringOverrideForm()
        entry = {"language": form.language.data, "msgid": form.msgid.data, "text": form.text.data}

        def edit(d: dict) -> dict:
            if form.delete.data:
                return delete_string(d, entry["language"], entry["msgid"])
            return save_string(d, entry["language"], entry["msgid"], entry["text"])

        summary = summary_of("string_override", language=entry["language"], msgid=entry["msgid"][:80])
        if apply_edit(edit, summary) is not None:
            return redirect(url_for("admin.config.strings"))
    return render("admin/config/strings.html", d=d, entry=entry)
