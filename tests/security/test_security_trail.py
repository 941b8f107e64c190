"""The security trail: exports, imports and suspensions are recorded; a tenant admin reads the
tenant's events (and only those) in their own language, time zone and date format, filters them,
pages through them and downloads them as CSV; agents and customers cannot."""

import csv
import html
import io
import json
from datetime import datetime, timedelta, timezone

import yaml
from babel.dates import format_datetime
from sqlalchemy import select

from app.accounts.models import Operator, User
from app.extensions import db
from app.security import events as kinds
from app.security.models import SecurityEvent
from app.security.services import record_event
from app.tenancy.scoping import tenant_scope
from tests.conftest import portal_url, translated

ADMIN = "admin@targito.test"
AGENT = "agent@targito.test"
CUSTOMER = "zakaznik@firma.cz"
OPERATOR = "operator@portal.test"
TRAIL = portal_url("targito", "/admin/security")
CSV_URL = portal_url("targito", "/admin/security/events.csv")


def _targito(make_tenant, make_user, *, locale="en", name=""):
    targito = make_tenant("targito")
    make_user(targito, ADMIN, role="admin", locale=locale, name=name)
    make_user(targito, AGENT, role="agent")
    make_user(targito, CUSTOMER)
    return targito


def _user(app, tenant, email):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _record(app, tenant, kind, *, actor_email=None, subject_email=None, email="", ip="192.0.2.7", at=None, **params):
    """An event as the other modules record it (sign-ins, role changes...), at a chosen moment."""
    with app.app_context():
        with tenant_scope(tenant.id):
            actor = (
                db.session.execute(select(User).where(User.email == actor_email)).scalar_one() if actor_email else None
            )
            subject = (
                db.session.execute(select(User).where(User.email == subject_email)).scalar_one()
                if subject_email
                else None
            )
            event = record_event(kind, tenant_id=tenant.id, actor=actor, subject=subject, email=email, ip=ip, **params)
        if at is not None:
            event.created_at = at
        db.session.commit()
        return event.id


def _events(app, tenant_id):
    """The tenant's events other than sign-ins and sign-outs, oldest first."""
    with app.app_context():
        return db.session.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.tenant_id == tenant_id, SecurityEvent.kind.not_in(SIGN_IN_OUT))
            .order_by(SecurityEvent.id)
        ).all()


def _operator_client(app):
    from app.accounts.hashing import hash_password

    with app.app_context():
        db.session.add(Operator(email=OPERATOR, password_hash=hash_password("operator-password")))
        db.session.commit()
    client = app.test_client()
    assert (
        client.post(portal_url(None, "/login"), data={"email": OPERATOR, "password": "operator-password"}).status_code
        == 302
    )
    return client


SIGN_IN_OUT = (kinds.LOGIN_SUCCEEDED, kinds.LOGOUT)


def _rows(page: str) -> list[str]:
    """The text of the trail's table rows, newest first, without the reading admin's own sign-ins
    and sign-outs (the tests sign in; those events are recorded and shown like any other)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [html.unescape(row) for row in body.split("<tr")[1:]]
    return [
        row
        for row in rows
        if not (any(f'data-kind="{kind}"' in row for kind in SIGN_IN_OUT) and f"<td>{ADMIN}</td>" in row)
    ]


# --- recording ------------------------------------------------------------------------------------


def test_export_import_and_suspension_are_on_the_tenant_admins_trail(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user, name="Tereza Admin")
    login("targito", ADMIN)
    assert client.get(portal_url("targito", "/admin/config/export.zip")).status_code == 200
    exported = client.get(portal_url("targito", "/admin/config/export.yaml"))
    assert exported.status_code == 200
    definition = yaml.safe_load(exported.data)
    definition["statuses"][0]["name"]["en"] = "New"
    # The dry run (showing the differences) is not an import...
    dry = client.post(
        portal_url("targito", "/admin/config/import"),
        data={"file": (io.BytesIO(yaml.safe_dump(definition, allow_unicode=True).encode()), "targito.yaml")},
        content_type="multipart/form-data",
    )
    assert dry.status_code == 200
    assert [e.kind for e in _events(app, targito.id)] == [kinds.CONFIG_EXPORTED, kinds.CONFIG_EXPORTED]
    # ...applying it is.
    payload = dry.get_data(as_text=True).split('name="definition" value="', 1)[1].split('"', 1)[0]
    assert (
        client.post(
            portal_url("targito", "/admin/config/import"), data={"definition": html.unescape(payload), "apply": "1"}
        ).status_code
        == 302
    )

    operator = _operator_client(app)
    assert operator.post(portal_url(None, "/tenants/targito/status"), data={"status": "suspended"}).status_code == 302
    assert client.get(TRAIL).status_code == 503  # a suspended portal serves nothing, its trail included
    assert operator.post(portal_url(None, "/tenants/targito/status"), data={"status": "active"}).status_code == 302

    events = _events(app, targito.id)
    admin = _user(app, targito, ADMIN)
    with app.app_context():
        operator_id = db.session.execute(select(Operator.id)).scalar_one()
    assert [(e.kind, e.actor_user_id, e.actor_operator_id, e.params) for e in events] == [
        (kinds.CONFIG_EXPORTED, admin.id, None, {"format": "zip"}),
        (kinds.CONFIG_EXPORTED, admin.id, None, {"format": "yaml"}),
        (kinds.CONFIG_IMPORTED, admin.id, None, {"changes": 1}),
        (kinds.TENANT_SUSPENDED, None, operator_id, {}),
        (kinds.TENANT_RESUMED, None, operator_id, {}),
    ]

    page = client.get(TRAIL)
    assert page.status_code == 200
    rows = _rows(page.get_data(as_text=True))
    assert len(rows) == 5
    assert "Portal resumed by the platform operator" in rows[0] and "Platform operator" in rows[0]
    assert "Portal suspended by the platform operator" in rows[1] and "Platform operator" in rows[1]
    assert "Configuration imported" in rows[2] and "Tereza Admin (admin@targito.test)" in rows[2]
    assert all("Configuration exported" in row and "Tereza Admin" in row for row in rows[3:])
    assert "127.0.0.1" in rows[3]  # the address the request came from


def test_suspending_a_suspended_portal_records_nothing_more(app, make_tenant, make_user):
    targito = _targito(make_tenant, make_user)
    operator = _operator_client(app)
    for _ in range(2):
        operator.post(portal_url(None, "/tenants/targito/status"), data={"status": "suspended"})
    assert [e.kind for e in _events(app, targito.id)] == [kinds.TENANT_SUSPENDED]


# --- reading --------------------------------------------------------------------------------------


def test_a_czech_admin_reads_the_trail_in_czech_with_czech_dates_in_her_time_zone(
    app, client, make_tenant, make_user, login
):
    targito = _targito(make_tenant, make_user, locale="cs")
    with app.app_context(), tenant_scope(targito.id):
        db.session.execute(select(User).where(User.email == ADMIN)).scalar_one().timezone = "Europe/Prague"
        db.session.commit()
    moment = datetime(2026, 12, 1, 23, 30, 15, tzinfo=timezone.utc)  # already 2 December in Prague
    _record(
        app,
        targito,
        kinds.ROLE_CHANGED,
        actor_email=ADMIN,
        subject_email=AGENT,
        at=moment,
        old_role="agent",
        new_role="admin",
    )
    login("targito", ADMIN)
    page = client.get(TRAIL + "?kind=role_changed").get_data(as_text=True)
    expected = format_datetime(moment, "medium", tzinfo="Europe/Prague", locale="cs")
    assert "2. 12. 2026" in expected and "0:30:15" in expected
    assert expected in page
    assert format_datetime(moment, "medium", tzinfo="UTC", locale="en") not in page
    # The role keys are worded by the same translated names as the people admin shows.
    row = _rows(page)[0]
    assert translated(app, "cs", "Agent") in row and translated(app, "cs", "Tenant admin") in row
    assert "agent" not in row.split("<td>", 2)[2].split("</td>")[0]  # the sentence names no raw key
    assert translated(app, "cs", "When") in page and translated(app, "cs", "Who") in page


def test_an_english_admin_reads_whole_sentences_with_the_role_names(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user)
    _record(
        app, targito, kinds.ROLE_CHANGED, actor_email=ADMIN, subject_email=AGENT, old_role="agent", new_role="admin"
    )
    _record(app, targito, kinds.USER_INVITED, actor_email=ADMIN, subject_email=CUSTOMER, role="customer")
    _record(app, targito, kinds.LOGIN_FAILED, email="nobody@targito.test", ip="203.0.113.9")
    _record(
        app,
        targito,
        kinds.MEMBERSHIP_CHANGED,
        actor_email=ADMIN,
        subject_email=CUSTOMER,
        organization="Firma",
        change="made_admin",
    )
    _record(
        app,
        targito,
        kinds.MEMBERSHIP_CHANGED,
        actor_email=ADMIN,
        subject_email=CUSTOMER,
        organization="Firma",
        change="renamed",
    )  # a change this version has no sentence for
    login("targito", ADMIN)
    rows = _rows(client.get(TRAIL).get_data(as_text=True))
    assert "Membership of Firma changed: renamed" in rows.pop(0)
    assert "Made an organization admin of Firma" in rows.pop(0)
    assert "Failed sign-in as nobody@targito.test" in rows[0] and "203.0.113.9" in rows[0]
    assert "<td>—</td>" in rows[0]  # nobody acted
    assert "Invited as Customer" in rows[1] and CUSTOMER in rows[1]
    assert "Role changed from Agent to Tenant admin" in rows[2] and AGENT in rows[2]


def test_another_tenants_and_the_platforms_events_never_show(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user)
    exea = make_tenant("exea")
    make_user(exea, "anna@exea.test", role="admin")
    _record(app, exea, kinds.LOGIN_FAILED, email="secret@exea.test", ip="198.51.100.1")
    _record(app, exea, kinds.LOGIN_SUCCEEDED, actor_email="anna@exea.test", subject_email="anna@exea.test")
    with app.app_context():
        record_event(kinds.LOGIN_FAILED, tenant_id=None, email="operator-typo@portal.test", ip="198.51.100.2")
        db.session.commit()
    _record(app, targito, kinds.LOGIN_FAILED, email="own@targito.test")
    login("targito", ADMIN)
    for response in (
        client.get(TRAIL),
        client.get(TRAIL + "?email=exea"),
        client.get(CSV_URL),
        client.get(CSV_URL + "?email=anna"),
    ):
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        for foreign in ("secret@exea.test", "anna@exea.test", "198.51.100", "operator-typo"):
            assert foreign not in text
    assert "own@targito.test" in client.get(TRAIL).get_data(as_text=True)


def test_agents_and_customers_cannot_read_the_trail(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user)
    _record(app, targito, kinds.LOGIN_FAILED, email="x@targito.test")
    assert "/login" in client.get(TRAIL).headers["Location"]
    assert "/login" in client.get(CSV_URL).headers["Location"]
    login("targito", CUSTOMER)
    assert client.get(TRAIL).status_code == 404 and client.get(CSV_URL).status_code == 404
    client.post(portal_url("targito", "/logout"))
    login("targito", AGENT)
    assert client.get(TRAIL).status_code == 403 and client.get(CSV_URL).status_code == 403
    assert 'href="/admin/security"' not in client.get(portal_url("targito", "/admin/users")).get_data(as_text=True)
    client.post(portal_url("targito", "/logout"))
    login("targito", ADMIN)
    assert 'href="/admin/security"' in client.get(portal_url("targito", "/admin/users")).get_data(as_text=True)


def test_filters_by_kind_and_by_email_address(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user)
    _record(app, targito, kinds.LOGIN_FAILED, email="Mallory@evil.test")
    _record(app, targito, kinds.LOGIN_SUCCEEDED, actor_email=AGENT, subject_email=AGENT, email="")
    _record(
        app,
        targito,
        kinds.ROLE_CHANGED,
        actor_email=ADMIN,
        subject_email=CUSTOMER,
        old_role="customer",
        new_role="agent",
    )
    _record(app, targito, kinds.LOGIN_FAILED, email="a_b%@targito.test")
    login("targito", ADMIN)

    def kinds_shown(query):
        return [
            row.split('data-kind="', 1)[1].split('"', 1)[0]
            for row in _rows(client.get(TRAIL + query).get_data(as_text=True))
            if 'data-kind="' in row
        ]

    assert kinds_shown("?kind=login_failed") == ["login_failed", "login_failed"]
    assert kinds_shown("?email=mallory") == ["login_failed"]  # any case, part of the address
    assert kinds_shown("?email=" + AGENT) == ["login_succeeded"]  # the account signed in, by id
    assert kinds_shown("?email=" + ADMIN.upper()) == ["role_changed"]  # who acted (own sign-ins left out)
    assert kinds_shown("?email=" + CUSTOMER + "&kind=role_changed") == ["role_changed"]  # whom it concerns
    assert kinds_shown("?email=" + CUSTOMER + "&kind=login_failed") == []
    assert kinds_shown("?email=_b%25") == ["login_failed"]  # LIKE wildcards are plain characters
    assert kinds_shown("?email=%25") == ["login_failed"]
    assert len(kinds_shown("?kind=no_such_kind")) == 4  # an unknown kind is no filter
    page = client.get(TRAIL + "?kind=logout").get_data(as_text=True)
    assert "No security events match." in page


def test_older_pages_by_id_keep_the_filters(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user)
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with app.app_context():
        for n in range(120):
            record_event(kinds.LOGIN_FAILED, tenant_id=targito.id, email=f"guess{n:03}@targito.test", ip="192.0.2.1")
        record_event(kinds.CONFIG_EXPORTED, tenant_id=targito.id, ip="192.0.2.1", format="zip")
        db.session.flush()
        for n, event in enumerate(db.session.scalars(select(SecurityEvent).order_by(SecurityEvent.id))):
            event.created_at = start + timedelta(minutes=n)
        db.session.commit()
    login("targito", ADMIN)
    seen, url, pages = [], TRAIL + "?kind=login_failed", 0
    while url:
        text = client.get(url).get_data(as_text=True)
        pages += 1
        seen += [row.split("guess", 1)[1][:3] for row in _rows(text) if "guess" in row]
        older = (
            text.split(">" + "Older" + "</a>")[0].rsplit('href="', 1)[1].split('"')[0] if ">Older</a>" in text else None
        )
        if older:
            assert "kind=login_failed" in older
            url = portal_url("targito", html.unescape(older))
        else:
            url = None
    assert pages == 3
    assert seen == [f"{n:03}" for n in range(119, -1, -1)]  # newest first, each once
    assert "Newest" in client.get(TRAIL + "?before=10").get_data(as_text=True)
    assert client.get(TRAIL + "?before=x").status_code == 200


def test_the_csv_has_keys_iso_times_and_no_formulas(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user)
    moment = datetime(2026, 12, 1, 23, 30, 15, tzinfo=timezone.utc)
    _record(
        app,
        targito,
        kinds.ROLE_CHANGED,
        actor_email=ADMIN,
        subject_email=AGENT,
        at=moment,
        old_role="agent",
        new_role="admin",
    )
    _record(app, targito, kinds.LOGIN_FAILED, email='=HYPERLINK("http://evil.test")', ip="203.0.113.9", at=moment)
    login("targito", ADMIN)
    response = client.get(CSV_URL)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = [
        row for row in csv.DictReader(io.StringIO(response.get_data(as_text=True))) if row["kind"] not in SIGN_IN_OUT
    ]
    assert list(rows[0]) == [
        "id",
        "created_at",
        "kind",
        "email",
        "actor_type",
        "actor_user_id",
        "actor_email",
        "subject_user_id",
        "subject_email",
        "ip",
        "params",
    ]
    failed, changed = rows
    assert failed["kind"] == "login_failed" and failed["created_at"] == "2026-12-01T23:30:15+00:00"
    assert failed["email"] == '\'=HYPERLINK("http://evil.test")'  # shown as text, never run as a formula
    assert failed["actor_type"] == "" and failed["ip"] == "203.0.113.9"
    assert changed["kind"] == "role_changed" and changed["actor_type"] == "user"
    assert changed["actor_email"] == ADMIN and changed["subject_email"] == AGENT
    assert json.loads(changed["params"]) == {"old_role": "agent", "new_role": "admin"}  # keys, not words
    assert [
        r["kind"]
        for r in csv.DictReader(io.StringIO(client.get(CSV_URL + "?kind=role_changed").get_data(as_text=True)))
    ] == ["role_changed"]


def test_a_hostile_address_typed_at_the_login_is_shown_as_text(app, client, make_tenant, make_user, login):
    targito = _targito(make_tenant, make_user)
    _record(app, targito, kinds.LOGIN_FAILED, email='"><script>alert(1)</script>@x.test', ip="203.0.113.9")
    login("targito", ADMIN)
    page = client.get(TRAIL).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "Failed sign-in as &#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@x.test" in page
