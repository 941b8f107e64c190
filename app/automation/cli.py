"""``flask --app wsgi automation sweep [--now ISO-DATETIME] [--tenant SLUG]``: the operator's (and
the tests') way to run the time rules now, or as of another moment."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

automation_cli = AppGroup("automation", help="Time rules: auto-close and other status-age rules.")


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@automation_cli.command("sweep")
@click.option("--now", "now_text", metavar="ISO-DATETIME",
              help="Evaluate the rules as of this moment (UTC unless it has an offset), e.g. 2026-12-01T09:00.")
@click.option("--tenant", "slug", metavar="SLUG", help="Only this tenant.")
def sweep_command(now_text, slug):
    """Apply every due time rule (idempotent: a second run changes nothing) and print what it did."""
    from app.automation.sweep import describe, run_time_rules

    try:
        now = _parse_now(now_text)
    except ValueError:
        click.echo(f"error: --now {now_text!r} is not an ISO date and time", err=True)
        sys.exit(2)
    runs = run_time_rules(now, tenant_slug=slug)
    for line in describe(runs):
        click.echo(line)
    total = sum(r.count for r in runs)
    click.echo(f"{total} request(s) changed" + (f" as of {now.isoformat()}" if now else ""))
