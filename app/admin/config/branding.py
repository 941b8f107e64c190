"""Branding: colours (checked for contrast under white text), tagline and logo."""

from __future__ import annotations

import re

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, keep_problems, render
from app.admin.config.editing import copied, set_or_pop
from app.admin.config.inputs import ConsoleForm, Flag, lower, strip
from app.admin.services import Problem, contrast_with_white
from app.admin.summaries import summary_of

MIN_CONTRAST = 4.5
COLOR_RE = re.compile(r"^#[0-9a-f]{6}$")
COLOR_LABELS = {"primary_color": _l("Main colour"), "accent_color": _l("Accent colour")}


class BrandingForm(ConsoleForm):
    localized = ("tagline",)
    primary_color = StringField(filters=[strip, lower], default="")
    accent_color = StringField(filters=[strip, lower], default="")

    def branding(self, values: dict) -> dict:
        values = dict(values)
        set_or_pop(values, "tagline", self.texts("tagline") or None)
        for name in COLOR_LABELS:
            set_or_pop(values, name, self[name].data or None)
        return values


class LogoForm(ConsoleForm):
    logo = FileField()
    remove = Flag()


def contrast_problems(values: dict) -> list[Problem]:
    """A colour under white text (buttons, header) needs a WCAG contrast of at least 4.5:1; malformed
    colours are left to the definition's validator."""
    problems = []
    for name, label in COLOR_LABELS.items():
        color = values.get(name) or ""
        if COLOR_RE.match(color):
            ratio = contrast_with_white(color)
            if ratio < MIN_CONTRAST:
                problems.append(
                    Problem(
                        _(
                            "%(label)s %(color)s is too light for white text on it: its contrast is %(ratio)s:1, "
                            "at least 4.5:1 is needed. Choose a darker colour.",
                            label=label,
                            color=color,
                            ratio=f"{ratio:.2f}",
                        ),
                        name,
                    )
                )
    return problems


def save_branding(definition: dict, values: dict) -> dict:
    d = copied(definition)
    d["branding"] = values
    return d


@bp.route("/branding", methods=["GET", "POST"])
def branding():
    d = current()
    values = dict(d["branding"])
    if request.method == "POST":
        values = BrandingForm.for_tenant()().branding(values)
        problems = contrast_problems(values)
        if problems:
            keep_problems(problems)
        elif apply_edit(lambda d: save_branding(d, values), summary_of("branding")) is not None:
            return redirect(url_for("admin.config.branding"))
    return render("admin/config/branding.html", d=d, values=values)


@bp.post("/branding/logo")
def logo():
    """Upload (or remove) the logo shown in the portal's header."""
    from app.tenancy.services import LogoError, remove_logo, set_logo

    form = LogoForm()
    if form.remove.data:
        remove_logo(g.tenant.id)
        flash(_("The logo is removed; the header shows the portal's name."), "success")
        return redirect(url_for("admin.config.branding"))
    try:
        set_logo(g.tenant.id, form.logo.data if isinstance(form.logo.data, FileStorage) else None)
    except LogoError as error:
        keep_problems([Problem(error.message, "logo")])
        d = current()
        return render("admin/config/branding.html", d=d, values=dict(d["branding"]))
    flash(_("The new logo is in the header."), "success")
    return redirect(url_for("admin.config.branding"))
