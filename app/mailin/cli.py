"""``flask --app wsgi mail ingest --tenant SLUG FILE|-``, and the IMAP mailboxes of tenants.

Operator tools: they name the tenant explicitly.
"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db

mail_cli = AppGroup("mail", help="Inbound e-mail: ingest a message, manage and poll IMAP mailboxes.")


def _tenant_or_exit(slug: str):
    from app.tenancy.models import Tenant

    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        click.echo(f"error: no tenant {slug!r}", err=True)
        sys.exit(2)
    return tenant


@mail_cli.command("ingest")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--recipient", default=None, help="The envelope recipient, if the message's headers lack it.")
@click.argument("source", type=click.File("rb"))
def ingest_command(slug, recipient, source):
    """Store and process one raw RFC 822 message from FILE (or - for standard input)."""
    from app.mailin.services import IngestError, ingest

    tenant = _tenant_or_exit(slug)
    raw = source.read()
    try:
        inbound = ingest(raw, tenant.id, source="cli", envelope_to=(recipient,) if recipient else ())
    except IngestError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(75)  # EX_TEMPFAIL: a mail transfer agent keeps the message and retries
    from app.tenancy.scoping import tenant_scope
    from app.tickets.models import Ticket

    reference = None
    if inbound.ticket_id:
        with tenant_scope(tenant.id):
            reference = db.session.execute(select(Ticket.reference).where(Ticket.id == inbound.ticket_id)
                                           ).scalar_one_or_none()
    outcome = f"duplicate of message {inbound.id} ({inbound.outcome})" if inbound.duplicate else inbound.outcome
    parts = [f"message {inbound.id}: {outcome}"]
    if reference:
        parts.append(f"request {reference}")
    if inbound.comment_id:
        parts.append(f"comment {inbound.comment_id}")
    if inbound.reason:
        parts.append(inbound.reason)
    click.echo(" · ".join(parts))
