"""The periodic jobs that `rq cron app.jobs.schedule` runs (make run and production start it): the
module must import, and every sweep the product relies on is registered."""

import importlib


def test_the_cron_configuration_registers_every_sweep():
    from rq import cron

    cron._job_data_registry.clear()
    import app.jobs.schedule as schedule

    importlib.reload(schedule)
    names = {entry.get("name") for entry in cron._job_data_registry}
    assert {"sweep-outbox", "sweep-notifications", "sweep-time-rules", "poll-mailboxes"} <= names
    for entry in cron._job_data_registry:
        assert callable(entry["func"]) and (entry.get("interval") or entry.get("cron"))
