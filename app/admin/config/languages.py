"""The portal's name, registration, time zone and languages (enabling one copies the texts)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, render
from app.admin.config.editing import copied, refuse
from app.admin.config.inputs import ConsoleForm, Strings, strip
from app.admin.services import relocalize
from app.admin.summaries import summary_of
from app.tenancy.definition import SUPPORTED_LANGUAGES


class GeneralForm(ConsoleForm):
    name = StringField(filters=[strip], default="")
    registration = StringField(default="")
    timezone = StringField(filters=[strip], default="")
    languages = Strings()
    default_language = StringField(default="")

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "registration": self.registration.data,
            "timezone": self.timezone.data,
            "languages": [lang for lang in SUPPORTED_LANGUAGES if lang in self.languages.data],
            "default_language": self.default_language.data,
        }


def save_general(definition: dict, values: dict) -> dict:
    """Name, registration, time zone and languages; texts follow the languages (``relocalize``)."""
    if not values["languages"]:
        refuse(_("Enable at least one language."), "languages")
    if values["default_language"] not in values["languages"]:
        refuse(_("The default language must be one of the enabled languages."), "default_language")
    d = copied(definition)
    d["name"], d["registration"], d["timezone"] = values["name"], values["registration"], values["timezone"]
    if values["languages"] != list(d["languages"]) or values["default_language"] != d["default_language"]:
        relocalize(d, values["languages"], d["default_language"])
    d["languages"], d["default_language"] = values["languages"], values["default_language"]
    return d


@bp.route("/general", methods=["GET", "POST"])
def general():
    d = current()
    values = {
        "name": d["name"],
        "registration": d["registration"],
        "timezone": d["timezone"],
        "languages": list(d["languages"]),
        "default_language": d["default_language"],
    }
    if request.method == "POST":
        values = GeneralForm().values()
        added = [lang for lang in values["languages"] if lang not in d["languages"]]
        if apply_edit(lambda d: save_general(d, values), summary_of("general")) is not None:
            if added:
                flash(
                    _(
                        "Texts in the newly enabled language(s) %(languages)s start as a copy of the default "
                        "language: translate them on the configuration pages.",
                        languages=", ".join(added),
                    ),
                    "warning",
                )
            return redirect(url_for("admin.config.general"))
    from app.templating import LANGUAGE_NAMES

    return render(
        "admin/config/general.html", d=d, values=values, supported=SUPPORTED_LANGUAGES, language_names=LANGUAGE_NAMES
    )
