"""``flask helpcenter reindex [--tenant SLUG]``: rebuild the search documents of articles and requests."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.tenancy.scoping import tenant_scope
from app.tenancy.services import list_tenants

helpcenter_cli = AppGroup("helpcenter", help="Help center: articles and search.")


@helpcenter_cli.command("reindex")
@click.option("--tenant", "slug", default=None, help="Only this tenant.")
def reindex_command(slug):
    """Rebuild the search documents (after importing data by other means than the services)."""
    from app.helpcenter.search import reindex_all

    for tenant in list_tenants():
        if slug and tenant.slug != slug:
            continue
        with tenant_scope(tenant.id):
            click.echo(f"{tenant.slug}: {reindex_all()} documents")
