"""``flask helpcenter reindex [--tenant SLUG]``: rebuild the search documents of articles and requests."""

from __future__ import annotations

import click
from flask_babel import ngettext

from app.i18n.cli import OperatorGroup
from app.tenancy.scoping import tenant_scope
from app.tenancy.services import list_tenants

helpcenter_cli = OperatorGroup("helpcenter", help="Help center: articles and search.")


@helpcenter_cli.command("reindex")
@click.option("--tenant", "slug", default=None, help="Only this tenant.")
def reindex_command(slug):
    """Rebuild the search documents (after importing data by other means than the services)."""
    from app.helpcenter.search import reindex_all

    for tenant in list_tenants():
        if slug and tenant.slug != slug:
            continue
        with tenant_scope(tenant.id):
            count = reindex_all()
            click.echo(ngettext("%(slug)s: %(num)d document", "%(slug)s: %(num)d documents", count, slug=tenant.slug))
