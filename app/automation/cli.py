"""``flask --app wsgi automation sweep [--now ISO-DATETIME] [--tenant SLUG]``: the operator's (and
the tests') way to run the time rules now, or as of another moment."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click
from flask_babel import gettext as _, ngettext

from app.automation.sweep import run_time_rules
from app.i18n.cli import OperatorGroup

automation_cli = OperatorGroup("automation", help="Time rules: auto-close and other status-age rules.")


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@automation_cli.command("sweep")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-DATETIME",
    help="Evaluate the rules as of this moment (UTC unless it has an offset), e.g. 2026-12-01T09:00.",
)
@click.option("--tenant", "slug", metavar="SLUG", help="Only this tenant.")
def sweep_command(now_text, slug):
    """Apply every due time rule (idempotent: a second run changes nothing) and print what it did."""
    try:
        now = _parse_now(now_text)
    except ValueError:
        click.echo(
            _("error: %(problem)s", problem=_("--now '%(value)s' is not an ISO date and time", value=now_text)),
            err=True,
        )
        sys.exit(2)
    runs = run_time_rules(now, tenant_slug=slug)
    for run in runs:
        click.echo(_describe(run))
    total = sum(r.count for r in runs)
    if now:
        click.echo(
            ngettext(
                "%(num)d request changed as of %(moment)s",
                "%(num)d requests changed as of %(moment)s",
                total,
                moment=now.isoformat(),
            )
        )
    else:
        click.echo(ngettext("%(num)d request changed", "%(num)d requests changed", total))


def _describe(run, limit: int = 20) -> str:
    """What one rule did, with the first references (``sweep.describe`` is the log's English)."""
    references = ", ".join(run.references[:limit]) + (" …" if len(run.references) > limit else "")
    if run.target:
        return ngettext(
            "%(tenant)s: %(rule)s: %(num)d request → %(status)s: %(references)s",
            "%(tenant)s: %(rule)s: %(num)d requests → %(status)s: %(references)s",
            run.count,
            tenant=run.tenant,
            rule=run.rule,
            status=run.target,
            references=references,
        )
    return ngettext(
        "%(tenant)s: %(rule)s: fired for %(num)d request: %(references)s",
        "%(tenant)s: %(rule)s: fired for %(num)d requests: %(references)s",
        run.count,
        tenant=run.tenant,
        rule=run.rule,
        references=references,
    )
