"""Periodic jobs, run by RQ's cron scheduler: ``rq cron app.jobs.schedule --url $REDIS_URL``.

``make run`` starts it next to the worker. Every periodic job is an idempotent, set-based sweep over
the database, so a missed or doubled run changes nothing.
"""

import os

from rq import cron

from app.mailin.jobs import poll_mailboxes
from app.automation.jobs import sweep_time_rules
from app.notifications.jobs import sweep_notifications
from app.outbox.jobs import sweep_outbox

QUEUE = os.environ.get("RQ_QUEUE", "default")

cron.register(sweep_outbox, QUEUE, interval=60, name="sweep-outbox")
cron.register(sweep_notifications, QUEUE, interval=30, name="sweep-notifications")
cron.register(sweep_time_rules, QUEUE, interval=300, name="sweep-time-rules")
cron.register(poll_mailboxes, QUEUE, interval=60, name="poll-mailboxes")
