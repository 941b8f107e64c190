"""Export and import of the whole definition (the files of ``tenants/<slug>/``).

An import is shown as a dry run first (the changes it would make); the page carries the read
definition back as JSON for the admin to apply. Both directions are security events.
"""

from __future__ import annotations

from flask import Response, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import StringField

from app.admin import services
from app.admin.config.base import bp, keep_problems, render
from app.admin.config.editing import refuse
from app.admin.config.inputs import ConsoleForm, Flag
from app.admin.services import ConsoleError, Problem
from app.admin.summaries import summary_of


class ImportForm(ConsoleForm):
    """Step one posts ``file``; step two posts the ``definition`` read in step one and ``apply``."""

    file = FileField()
    definition = StringField(default="")
    apply = Flag()


def read_definition(form: ImportForm) -> dict:
    """The definition an import form carries (ConsoleError when it cannot be read)."""
    if form.definition.data:
        return services.parse_payload(form.definition.data)
    upload = form.file.data
    if not getattr(upload, "filename", None):  # nothing chosen (or a text where the file belongs)
        refuse(_("Choose a file: a zip of the tenants/ files or a single YAML file."), "file")
    return services.parse_upload(upload.filename, services.read_upload(upload.stream))


def _record_export(file_format: str) -> None:
    """The whole configuration leaving the portal (mailbox addresses, rules) is a security event."""
    from app.security.events import CONFIG_EXPORTED
    from app.security.services import record_event

    record_event(CONFIG_EXPORTED, tenant_id=g.tenant.id, actor=current_user._get_current_object(), format=file_format)


def _record_import(changes: int) -> None:
    """An applied import (never the dry run) is a security event, whether or not it changed anything."""
    from app.security.events import CONFIG_IMPORTED
    from app.security.services import record_event

    record_event(CONFIG_IMPORTED, tenant_id=g.tenant.id, actor=current_user._get_current_object(), changes=changes)


@bp.get("/export.zip")
def export_zip():
    slug = g.tenant.slug
    body = services.export_zip(slug)
    _record_export("zip")
    return Response(
        body, mimetype="application/zip", headers={"Content-Disposition": f'attachment; filename="{slug}.zip"'}
    )


@bp.get("/export.yaml")
def export_yaml():
    slug = g.tenant.slug
    body = services.export_yaml(slug)
    _record_export("yaml")
    return Response(
        body, mimetype="application/yaml", headers={"Content-Disposition": f'attachment; filename="{slug}.yaml"'}
    )


@bp.route("/import", methods=["GET", "POST"])
def import_definition():
    slug = g.tenant.slug
    report = None
    payload = None
    notes: list[str] = []
    if request.method == "POST":
        form = ImportForm()
        try:
            data = read_definition(form)
            if data.get("slug") != slug:
                notes.append(
                    _(
                        "The file describes '%(other)s'; it is imported as '%(slug)s'.",
                        other=data.get("slug"),
                        slug=slug,
                    )
                )
                data["slug"] = slug
            if form.apply.data:
                report = services.apply_data(
                    data,
                    slug=slug,
                    actor=current_user._get_current_object(),
                    summary=summary_of("import"),
                    source="import",
                )
                _record_import(len(report.changes))
                flash(
                    _("The definition was imported: %(count)s change(s).", count=len(report.changes))
                    if report.changed
                    else _("Nothing changed."),
                    "success",
                )
                return redirect(
                    url_for("admin.config.audit") if report.changed else url_for("admin.config.import_definition")
                )
            report = services.apply_data(data, slug=slug, actor=None, summary=None, dry_run=True, source="import")
            payload = services.dump_json(data)
        except ConsoleError as error:
            keep_problems(error.problems)
        except ValueError:
            keep_problems([Problem(_("The definition could not be read."))])
    return render("admin/config/import.html", report=report, payload=payload, notes=notes)
