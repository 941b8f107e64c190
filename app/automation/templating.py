"""What templates need from automation: the SLA clocks of a request and Babel durations."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_decimal, format_percent, format_timedelta

from app.automation.sla import clocks_of


def init_app(app: Flask) -> None:
    def sla_clocks(ticket):
        try:
            return clocks_of(ticket)
        except Exception:  # a clock must never break a page
            app.logger.exception("SLA clocks of ticket %s", getattr(ticket, "id", None))
            return []

    app.jinja_env.globals["sla_clocks"] = sla_clocks
    app.jinja_env.filters.setdefault("format_decimal", format_decimal)
    app.jinja_env.filters.setdefault("format_percent", format_percent)
    app.jinja_env.filters["timedelta"] = lambda value: format_timedelta(abs(value), granularity="minute", threshold=1.5)
