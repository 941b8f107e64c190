"""``flask --app wsgi mail ingest --tenant SLUG FILE|-``, ``mail reprocess --tenant SLUG [ID ...]``, and the
IMAP mailboxes of tenants.

Operator tools: they name the tenant explicitly.
"""

from __future__ import annotations

import sys

import click
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import select

from app.extensions import db
from app.i18n.cli import OperatorGroup
from app.mailin import models as m

mail_cli = OperatorGroup("mail", help="Inbound e-mail: ingest a message, manage and poll IMAP mailboxes.")

# What became of a message, in the operator's words (the stored outcome is the code).
OUTCOME_WORDS = {
    m.RECEIVED: _l("received, not processed yet"),
    m.COMMENT: _l("added as a comment"),
    m.CREATED: _l("created a request"),
    m.REJECTED: _l("rejected"),
    m.IGNORED_AUTO_REPLY: _l("ignored (an automatic reply)"),
    m.BOUNCE: _l("a bounce"),
    m.MALFORMED: _l("malformed, kept for an agent"),
    m.RATE_LIMITED: _l("refused (too many messages)"),
    m.TOO_LARGE: _l("refused (too large)"),
    m.FAILED: _l("failed, kept for an agent"),
    m.HELD: _l("held for an agent: the sender could not be confirmed"),
    m.DISCARDED: _l("discarded by an agent"),
}


def _error(problem: str, code: int):
    click.echo(_("error: %(problem)s", problem=problem), err=True)
    sys.exit(code)


def _tenant_or_exit(slug: str):
    from app.tenancy.models import Tenant

    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        _error(_("no tenant '%(slug)s'", slug=slug), 2)
    return tenant


@mail_cli.command("ingest")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--recipient", default=None, help="The envelope recipient, if the message's headers lack it.")
@click.argument("source", type=click.File("rb"))
def ingest_command(slug, recipient, source):
    """Store and process one raw RFC 822 message from FILE (or - for standard input)."""
    from app.mailin.intake import IngestError, ingest

    tenant = _tenant_or_exit(slug)
    raw = source.read()
    try:
        inbound = ingest(raw, tenant.id, source="cli", envelope_to=(recipient,) if recipient else ())
    except IngestError:
        # EX_TEMPFAIL: a mail transfer agent keeps the message and retries.
        _error(_("the message could not be stored; it can be delivered again later"), 75)
    click.echo(_describe(inbound, tenant))


@mail_cli.command("reprocess")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.argument("ids", nargs=-1, type=int)
def reprocess_command(slug, ids):
    """Process again the tenant's stored messages whose processing failed (or all of IDS)."""
    from app.mailin.intake import IngestError, reprocess, retryable_messages

    tenant = _tenant_or_exit(slug)
    waiting = retryable_messages(tenant.id, list(ids) or None)
    if ids:
        for missing in sorted(set(ids) - set(waiting)):
            click.echo(
                _("message %(id)s: nothing to retry (no such message, or it was processed)", id=missing), err=True
            )
    if not waiting:
        click.echo(_("no failed messages to process again"))
        return
    failed = 0
    for inbound_id in waiting:
        try:
            inbound = reprocess(inbound_id, tenant.id)
        except IngestError:
            failed += 1
            click.echo(_("message %(id)s: the original could not be read; try again later", id=inbound_id), err=True)
            continue
        if inbound is None:
            continue  # taken up meanwhile by another run
        failed += inbound.outcome == m.FAILED
        click.echo(_describe(inbound, tenant))
    if failed:
        sys.exit(1)


def _describe(inbound, tenant) -> str:
    """One line for the operator: what became of the message, its request and comment."""
    from app.tenancy.scoping import tenant_scope
    from app.tickets.models import Ticket

    reference = None
    if inbound.ticket_id:
        with tenant_scope(tenant.id):
            reference = db.session.execute(
                select(Ticket.reference).where(Ticket.id == inbound.ticket_id)
            ).scalar_one_or_none()
    outcome = str(OUTCOME_WORDS.get(inbound.outcome, inbound.outcome))
    if inbound.duplicate:
        outcome = _("duplicate of message %(id)s (%(outcome)s)", id=inbound.id, outcome=outcome)
    parts = [_("message %(id)s: %(outcome)s", id=inbound.id, outcome=outcome)]
    if reference:
        parts.append(_("request %(reference)s", reference=reference))
    if inbound.comment_id:
        parts.append(_("comment %(id)s", id=inbound.comment_id))
    if inbound.reason:
        parts.append(inbound.reason)  # stored with the message, in the intake log's words
    return " · ".join(parts)


@mail_cli.group("mailbox")
def mailbox_cli():
    """A tenant's IMAP mailboxes (polled every minute by `rq cron app.jobs.schedule`)."""


@mailbox_cli.command("set")
@click.option("--tenant", "slug", required=True)
@click.option("--host", required=True)
@click.option("--port", type=int, default=None, help="Default 993 for ssl, 143 otherwise.")
@click.option("--security", type=click.Choice(["ssl", "starttls", "none"]), default="ssl", show_default=True)
@click.option("--username", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    envvar="MAILBOX_PASSWORD",
    help="Prompted for when not given (or from $MAILBOX_PASSWORD); stored encrypted.",
)
@click.option("--folder", default="INBOX", show_default=True)
@click.option("--processed-folder", default=None, help="Move stored messages here (else they are flagged seen).")
@click.option("--no-verify-certificate", is_flag=True, help="Accept any TLS certificate (test servers only).")
def mailbox_set(slug, host, port, security, username, password, folder, processed_folder, no_verify_certificate):
    """Add or update a mailbox of the tenant."""
    from app.mailin.mailboxes import set_mailbox
    from app.tenancy.scoping import tenant_scope

    tenant = _tenant_or_exit(slug)
    with tenant_scope(tenant.id):
        mailbox = set_mailbox(
            host=host,
            port=port,
            security=security,
            username=username,
            password=password,
            folder=folder,
            processed_folder=processed_folder,
            verify_certificate=not no_verify_certificate,
        )
        click.echo(
            _(
                "mailbox %(id)s: %(address)s (%(security)s), folder %(folder)s",
                id=mailbox.id,
                address=f"{username}@{host}:{mailbox.port}",
                security=security,
                folder=folder,
            )
        )


@mailbox_cli.command("list")
def mailbox_list():
    """Every tenant's mailboxes and how their last poll went (never the password)."""
    from app.mailin.imap import error_words
    from app.mailin.models import Mailbox
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import all_tenants

    with all_tenants():
        rows = db.session.execute(
            select(Mailbox, Tenant.slug).join(Tenant, Tenant.id == Mailbox.tenant_id).order_by(Tenant.slug, Mailbox.id)
        ).all()
    for mailbox, slug in rows:
        if not mailbox.enabled:
            state = _("disabled")
        elif mailbox.failing:
            state = _("failing: %(error)s", error=error_words(mailbox.last_error))
        else:
            state = _("ok")
        last_poll = _("last poll %(when)s", when=mailbox.last_polled_at or "—")
        click.echo(
            f"{mailbox.id:<4} {slug:<14} {mailbox.username}@{mailbox.host}:{mailbox.port} "
            f"{mailbox.security:<8} {mailbox.folder:<10} {last_poll} · {state}"
        )


@mailbox_cli.command("remove")
@click.option("--tenant", "slug", required=True)
@click.argument("mailbox_id", type=int)
def mailbox_remove(slug, mailbox_id):
    """Stop polling a mailbox and forget its password."""
    from app.mailin.models import Mailbox
    from app.tenancy.scoping import tenant_scope

    tenant = _tenant_or_exit(slug)
    with tenant_scope(tenant.id):
        mailbox = db.session.get(Mailbox, mailbox_id)
        if mailbox is None:
            _error(_("no mailbox %(id)s at %(slug)s", id=mailbox_id, slug=slug), 2)
        db.session.delete(mailbox)
    click.echo(_("mailbox %(id)s removed", id=mailbox_id))


@mail_cli.command("rotate-key")
def rotate_key_command():
    """Re-encrypt every stored mailbox password with the first of MAILBOX_ENCRYPTION_KEYS."""
    from app.mailin.mailboxes import reencrypt_mailbox_passwords

    done, unreadable = reencrypt_mailbox_passwords()
    click.echo(ngettext("%(num)d mailbox password re-encrypted", "%(num)d mailbox passwords re-encrypted", done))
    if unreadable:
        _error(
            ngettext(
                "%(num)d mailbox password could not be decrypted with any key; enter it again in the console",
                "%(num)d mailbox passwords could not be decrypted with any key; enter them again in the console",
                unreadable,
            ),
            1,
        )


@mail_cli.command("poll")
@click.option("--tenant", "slug", required=True)
def poll_command(slug):
    """Poll the tenant's mailboxes now, in this process."""
    from app.mailin.jobs import poll_mailbox
    from app.mailin.models import Mailbox
    from app.tenancy.scoping import tenant_scope

    tenant = _tenant_or_exit(slug)
    with tenant_scope(tenant.id):
        ids = db.session.scalars(select(Mailbox.id).where(Mailbox.enabled.is_(True)).order_by(Mailbox.id)).all()
        for mailbox_id in ids:
            click.echo(_("mailbox %(id)s: %(result)s", id=mailbox_id, result=_poll_words(poll_mailbox(mailbox_id))))


def _poll_words(result: dict) -> str:
    """``poll_mailbox``'s counts in words: "2 messages stored, 1 duplicate, 0 left for the next poll"."""
    if result.get("skipped"):
        return _("skipped (disabled)")
    parts = [
        ngettext("%(num)d message stored", "%(num)d messages stored", result.get("stored", 0)),
        ngettext("%(num)d duplicate", "%(num)d duplicates", result.get("duplicates", 0)),
        ngettext("%(num)d left for the next poll", "%(num)d left for the next poll", result.get("left", 0)),
    ]
    if result.get("error"):
        from app.mailin.imap import error_words

        parts.append(_("failed: %(error)s", error=error_words(result["error"])))
    return ", ".join(parts)
