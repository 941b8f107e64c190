"""Time rules as the seeds describe them, through the sweep: auto-close, its comment and e-mail,
idempotency, two concurrent sweeps, and the operator's command."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.automation.sweep import run_time_rules
from app.extensions import db
from app.notifications.models import Notification
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tickets.models import Comment, Ticket, TicketEvent
from tests.automation.conftest import later, ticket_state
from tests.conftest import translated, translated_plural
from tests.notifications.test_request_notifications import deliver

# The sweep's set-based, guarded updates behave per engine (row locks on PostgreSQL, the write lock on SQLite).
pytestmark = pytest.mark.both_databases


def events_of(app, tenant, reference, kind):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalars(
            select(TicketEvent)
            .join(Ticket, TicketEvent.ticket_id == Ticket.id)
            .where(Ticket.reference == reference, TicketEvent.kind == kind)
            .order_by(TicketEvent.id)
        ).all()


def sweep(app, now, **options):
    with app.app_context():
        return run_time_rules(now, **options)


@pytest.mark.real_commits  # an in-process RQ worker's jobs commit on sessions of their own
def test_flexinform_closes_after_one_month_waiting_with_the_comment_and_tells_the_requester(app, make_request, outbox):
    tenant, ref = make_request("flexinform", status="valaszra-var")
    _status, entered = ticket_state(app, tenant, ref)
    deliver(app)  # the agent's own step is told first; what follows is the sweep's
    before = len(outbox())

    assert sweep(app, entered + timedelta(days=27)) == []  # not yet a month
    with app.app_context(), tenant_scope(tenant.id):
        one_month = (
            entered.replace(month=entered.month % 12 + 1, year=entered.year + entered.month // 12)
            if entered.day <= 28
            else entered + timedelta(days=31)
        )
    [run] = sweep(app, one_month + timedelta(minutes=1))
    assert (run.tenant, run.rule, run.target, run.references) == ("flexinform", "lezaras-valaszra-var", "kesz", [ref])
    assert ticket_state(app, tenant, ref)[0] == "kesz"

    [change] = events_of(app, tenant, ref, "status_changed")[-1:]
    assert (
        change.actor_id is None and change.data["from_status"] == "valaszra-var" and change.data["to_status"] == "kesz"
    )
    with app.app_context(), tenant_scope(tenant.id):
        comment = db.session.scalars(
            select(Comment)
            .join(Ticket, Comment.ticket_id == Ticket.id)
            .where(Ticket.reference == ref)
            .order_by(Comment.id.desc())
        ).first()
        assert comment.author_id is None and not comment.is_internal
        assert comment.body.startswith("A bejelentés automatikusan Kész státuszba került")
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        assert ticket.closed_at is not None

    deliver(app, now=later(minutes=5))
    mails = [m for m in outbox()[before:] if m[0] == "customer@example.com"]
    assert len(mails) == 1
    assert ref in mails[0][1] and "egy hónapon keresztül a bejelentő" in mails[0][2]


def test_flexinform_closes_one_week_after_resolution(app, make_request):
    tenant, ref = make_request("flexinform", status="megoldva")
    _status, entered = ticket_state(app, tenant, ref)
    assert sweep(app, entered + timedelta(days=7) - timedelta(minutes=1)) == []
    [run] = sweep(app, entered + timedelta(days=7))
    assert run.rule == "lezaras-megoldva" and ticket_state(app, tenant, ref)[0] == "kesz"
    with app.app_context(), tenant_scope(tenant.id):
        body = db.session.scalars(select(Comment.body).order_by(Comment.id.desc())).first()
    assert "egy hétig Megoldva" in body


def test_exea_closes_resolved_requests_after_72_hours_and_not_before(app, make_request):
    tenant, ref = make_request("exea", status="resolved")
    _status, entered = ticket_state(app, tenant, ref)
    assert sweep(app, entered + timedelta(hours=71, minutes=59)) == []
    assert ticket_state(app, tenant, ref)[0] == "resolved"
    [run] = sweep(app, entered + timedelta(hours=72))
    assert run.rule == "close_resolved_after_72h" and ticket_state(app, tenant, ref)[0] == "closed"


def test_a_reopened_request_is_not_closed(app, make_request):
    from app.accounts.models import User
    from app.workflow.models import Status
    from app.tickets.transitions import move_to_status

    tenant, ref = make_request("exea", status="resolved")
    _status, resolved_at = ticket_state(app, tenant, ref)
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        move_to_status(
            ticket,
            db.session.execute(select(Status).where(Status.key == "routed")).scalar_one(),
            actor_user=db.session.get(User, ticket.requester_id),
        )
        db.session.commit()
    assert sweep(app, resolved_at + timedelta(hours=100)) == []
    assert ticket_state(app, tenant, ref)[0] == "routed"


def test_a_second_sweep_changes_nothing(app, make_request):
    tenant, first = make_request("flexinform", status="megoldva")
    _tenant, second = make_request("flexinform", status="megoldva")
    now = later(days=8)
    [run] = sweep(app, now)
    assert sorted(run.references) == sorted([first, second])
    with app.app_context(), all_tenants():
        counts = (
            db.session.scalar(select(func.count(TicketEvent.id))),
            db.session.scalar(select(func.count(Comment.id))),
            db.session.scalar(select(func.count(Notification.id))),
        )
    assert sweep(app, now) == []
    assert sweep(app, later(days=60)) == []  # Kész is final
    with app.app_context(), all_tenants():
        assert counts == (
            db.session.scalar(select(func.count(TicketEvent.id))),
            db.session.scalar(select(func.count(Comment.id))),
            db.session.scalar(select(func.count(Notification.id))),
        )


def test_the_sweep_handles_many_requests_in_batches(app, make_request):
    tenant, _ref = make_request("exea", status="resolved")
    for _ in range(6):
        make_request("exea", status="resolved")
    with app.app_context():
        [run] = run_time_rules(later(hours=73), batch_size=2)
    assert run.count == 7
    with app.app_context(), tenant_scope(tenant.id):
        assert (
            db.session.scalar(
                select(func.count(TicketEvent.id)).where(
                    TicketEvent.kind == "status_changed", TicketEvent.actor_id.is_(None)
                )
            )
            == 7
        )


@pytest.mark.real_commits  # two threads, each on a connection of its own
def test_two_concurrent_sweeps_close_each_request_once(app, make_request):
    """Two workers at once: on PostgreSQL they really interleave (row locks, the guarded UPDATE); on
    SQLite the second waits for the first's write lock. Either way each request is closed once."""
    tenant, _ref = make_request("flexinform", status="megoldva")
    for _ in range(29):
        make_request("flexinform", status="megoldva")
    now = later(days=8)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                results.append(sum(r.count for r in run_time_rules(now, batch_size=7)))
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(results) == 30
    with app.app_context(), tenant_scope(tenant.id):
        per_ticket = db.session.execute(
            select(TicketEvent.ticket_id, func.count())
            .where(TicketEvent.kind == "status_changed", TicketEvent.actor_id.is_(None))
            .group_by(TicketEvent.ticket_id)
        ).all()
        comments = db.session.scalar(select(func.count(Comment.id)).where(Comment.author_id.is_(None)))
    assert len(per_ticket) == 30 and {n for _t, n in per_ticket} == {1} and comments == 30


def test_the_operator_command_sweeps_as_of_a_moment(app, make_request):
    tenant, ref = make_request("exea", status="resolved")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["automation", "sweep", "--now", later(hours=1).isoformat()])
    assert result.exit_code == 0 and "0 requests changed" in result.output
    moment = later(hours=73).strftime("%Y-%m-%dT%H:%M")
    result = runner.invoke(args=["automation", "sweep", "--now", moment, "--tenant", "exea"])
    assert result.exit_code == 0, result.output
    assert f"exea: close_resolved_after_72h: 1 request → closed: {ref}" in result.output
    assert "1 request changed" in result.output
    assert ticket_state(app, tenant, ref)[0] == "closed"
    result = runner.invoke(args=["automation", "sweep", "--now", "next tuesday"])
    assert result.exit_code == 2 and "not an ISO date" in result.output


def test_the_sweep_reports_to_the_operator_in_their_language(app, make_request):
    """A Czech operator sweeping the Polish tenant's requests reads Czech (with its plural forms)."""
    tenant, ref = make_request("exea", status="resolved")
    app.config["PORTAL_CLI_LANGUAGE"] = "cs"
    moment = later(hours=73).strftime("%Y-%m-%dT%H:%M")
    result = app.test_cli_runner().invoke(args=["automation", "sweep", "--now", moment, "--tenant", "exea"])
    assert result.exit_code == 0, result.output
    assert (
        translated_plural(
            app,
            "cs",
            "%(tenant)s: %(rule)s: %(num)d request → %(status)s: %(references)s",
            "%(tenant)s: %(rule)s: %(num)d requests → %(status)s: %(references)s",
            1,
            tenant="exea",
            rule="close_resolved_after_72h",
            status="closed",
            references=ref,
        )
        in result.output
    )
    assert (
        translated_plural(
            app,
            "cs",
            "%(num)d request changed as of %(moment)s",
            "%(num)d requests changed as of %(moment)s",
            1,
            moment=f"{moment}:00+00:00",
        )
        in result.output
    )
    wrong = app.test_cli_runner().invoke(args=["automation", "sweep", "--now", "next tuesday"])
    assert wrong.exit_code == 2
    assert (
        translated(
            app,
            "cs",
            "error: %(problem)s",
            problem=translated(app, "cs", "--now '%(value)s' is not an ISO date and time", value="next tuesday"),
        )
        in wrong.output
    )


def test_a_rule_without_a_status_change_fires_once_per_stay(app, make_request):
    from app.automation.models import AutomationRule

    tenant, ref = make_request("exea", status="waiting_for_customer")
    with app.app_context(), tenant_scope(tenant.id):
        db.session.add(
            AutomationRule(
                key="remind",
                name={"cs": "Przypomnienie", "en": "Reminder"},
                trigger="status_age",
                conditions={"status": ["waiting_for_customer"], "after": "P3D", "clock": "calendar"},
                actions=[{"comment": {"cs": "Czekamy na odpowiedź.", "en": "We wait."}}],
            )
        )
        db.session.commit()
    [run] = sweep(app, later(days=4))
    assert run.rule == "remind" and run.target is None
    assert sweep(app, later(days=5)) == []
    assert ticket_state(app, tenant, ref)[0] == "waiting_for_customer"
    assert len(events_of(app, tenant, ref, "commented")) == 1


def test_a_time_rules_move_tells_whom_the_target_statuss_entered_rules_name(app, make_request):
    """CRM-service tells its team when a ticket waits for it (a ``status_entered`` rule with
    ``notify: agents``); a time rule moving an unassigned ticket there tells the team too, although
    the system's own changes otherwise reach only an assignee."""
    from app.automation.models import AutomationRule

    tenant, ref = make_request("crmservice", status="waiting_customer")
    with app.app_context(), tenant_scope(tenant.id):
        db.session.add(
            AutomationRule(
                key="no_answer",
                name={"fi": "Ei vastausta", "en": "No answer"},
                trigger="status_age",
                conditions={"status": ["waiting_customer"], "after": "P7D", "clock": "calendar"},
                actions=[{"transition_to": "waiting_crm"}],
                position=99,
            )
        )
        db.session.commit()
        ticket_id = db.session.execute(select(Ticket.id).where(Ticket.reference == ref)).scalar_one()
        before = set(db.session.scalars(select(Notification.id).where(Notification.ticket_id == ticket_id)))
    [run] = sweep(app, later(days=8))
    assert run.rule == "no_answer" and run.target == "waiting_crm"
    with app.app_context(), tenant_scope(tenant.id):
        new = db.session.execute(
            select(Notification.recipient, Notification.audience).where(
                Notification.ticket_id == ticket_id, Notification.id.not_in(before)
            )
        ).all()
    assert ("agent@example.com", "agent") in set(new)
