"""``flask --app wsgi tenants list | sync [SLUG] | create SLUG --from _template | export SLUG | suspend | activate``.

These commands reach across tenants on purpose: they are the operator's tools.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _, ngettext

from app.i18n.cli import OperatorGroup
from app.tenancy.changes import describe_change
from app.tenancy.definition import SLUG_RE, DefinitionError, dump_definition_files
from app.tenancy.problems import Problem, problem_line
from app.tenancy import services

tenants_cli = OperatorGroup("tenants", help="List, sync, create, export and suspend tenants.")


def _tenants_dir() -> Path:
    return Path(current_app.config["TENANTS_DIR"])


def _echo_problems(error: DefinitionError) -> None:
    for problem in error.problems:
        click.echo(_("error: %(problem)s", problem=problem_line(problem)), err=True)


def _fail(error: DefinitionError) -> None:
    _echo_problems(error)
    sys.exit(1)


def _tenant_url(slug: str) -> str:
    scheme = current_app.config["PREFERRED_URL_SCHEME"]
    return f"{scheme}://{slug}.{current_app.config['PORTAL_DOMAIN']}/"


@tenants_cli.command("list")
def list_command():
    """List every tenant with its status, languages and address."""
    rows = services.list_tenants()
    if not rows:
        click.echo(_("no tenants; run %(command)s", command="`flask --app wsgi tenants sync`"))
        return
    for tenant in rows:
        click.echo(
            f"{tenant.slug:<16} {tenant.status:<10} {tenant.name:<24} "
            f"{','.join(tenant.locales):<10} {_tenant_url(tenant.slug)}"
        )


@tenants_cli.command("sync")
@click.argument("slug", required=False)
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
def sync_command(slug, dry_run):
    """Load tenants/<SLUG>/ (or every tenant folder) into the database. Idempotent."""
    base = _tenants_dir()
    if slug:
        folders = [base / slug]
    else:
        folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    failed = False
    for folder in folders:
        try:
            report = services.sync_tenant_folder(folder, dry_run=dry_run)
        except DefinitionError as error:
            _echo_problems(error)
            failed = True
            continue
        if not report.changed:
            click.echo(_("%(slug)s: up to date", slug=report.slug))
            continue
        count = len(report.changes)
        if dry_run:
            line = ngettext(
                "%(slug)s: would change (%(num)d change)",
                "%(slug)s: would change (%(num)d changes)",
                count,
                slug=report.slug,
            )
        elif report.created:
            line = ngettext(
                "%(slug)s: created (%(num)d change)", "%(slug)s: created (%(num)d changes)", count, slug=report.slug
            )
        else:
            line = ngettext(
                "%(slug)s: updated (%(num)d change)", "%(slug)s: updated (%(num)d changes)", count, slug=report.slug
            )
        click.echo(line)
        for entry in report.changes:
            click.echo(f"  - {describe_change(entry)}")
    if failed:
        sys.exit(1)


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--from", "template", default="_template", show_default=True, help="Template folder in tenants/.")
@click.option("--name", help="The vendor's name shown on its portal (default: the slug).")
@click.option("--prefix", help="Reference prefix of its requests, e.g. ACME (default: from the slug).")
@click.option("--languages", help="Comma-separated languages, e.g. cs,en (default: the template's).")
@click.option("--default-language", help="The default language (default: the template's, or the first).")
@click.option("--admin", "admin_email", help="E-mail address of the first tenant admin, invited by e-mail.")
@click.option("--from-tenant", help="Start from an existing tenant's configuration instead of a template.")
def create_command(slug, template, name, prefix, languages, default_language, admin_email, from_tenant):
    """Onboard a new tenant from a template (or another tenant's export), optionally inviting its admin."""
    from app.operator.services import onboard_tenant

    if not SLUG_RE.match(slug):
        _fail(DefinitionError([Problem("invalid_slug", {"slug": slug})]))
    source = f"tenant:{from_tenant}" if from_tenant else template
    try:
        tenant = onboard_tenant(
            slug=slug,
            name=name or slug.capitalize(),
            source=source,
            prefix=prefix,
            languages=[x.strip() for x in languages.split(",") if x.strip()] if languages else None,
            default_language=default_language,
            admin_email=admin_email,
            actor="cli",
        )
    except DefinitionError as error:
        _fail(error)
    click.echo(
        _(
            "%(slug)s: created from %(source)s; portal at %(url)s",
            slug=tenant.slug,
            source=from_tenant or template,
            url=_tenant_url(tenant.slug),
        )
    )
    if admin_email:
        click.echo(_("%(slug)s: invitation sent to %(email)s", slug=tenant.slug, email=admin_email))


@tenants_cli.command("export")
@click.argument("slug")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the files into this folder (default: print them).",
)
def export_command(slug, out):
    """Write a tenant's configuration in the tenants/ definition format."""
    try:
        files = dump_definition_files(services.export_definition(slug))
    except DefinitionError as error:
        _fail(error)
    if out is None:
        for name, text in files.items():
            click.echo(f"# --- {name}")
            click.echo(text)
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        click.echo(_("wrote %(path)s", path=out / name))


def _set_status(slug: str, status: str) -> None:
    # The same operation as the operator console's: the vendor's security trail records it.
    from app.operator.services import change_tenant_status

    try:
        change_tenant_status(slug, status, actor=None)
    except DefinitionError as error:
        _fail(error)
    click.echo(_("%(slug)s: suspended", slug=slug) if status == "suspended" else _("%(slug)s: active", slug=slug))


@tenants_cli.command("suspend")
@click.argument("slug")
def suspend_command(slug):
    """Take a tenant's portal offline (its address says it is suspended); nothing is deleted."""
    _set_status(slug, "suspended")


@tenants_cli.command("activate")
@click.argument("slug")
def activate_command(slug):
    """Bring a suspended tenant's portal back."""
    _set_status(slug, "active")
