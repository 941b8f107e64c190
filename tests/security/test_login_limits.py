"""Login limits: an attacker is slowed or made to wait; a legitimate user of the same office is not.

Per client address and portal only failed attempts count (Flask-Limiter, on Redis); per account the
wait after failures grows (1 minute, then 2, 4, ... up to 15); a success forgets the failures; the
security trail records every attempt. Behind a proxy (PROXY_FIX_X_FOR) the client is the one named
by X-Forwarded-For; without it, that header is ignored.
"""

from sqlalchemy import select

from app.extensions import db
from app.security import events
from app.security.models import SecurityEvent
from tests.conftest import _config, portal_url

PASSWORD = "correct-horse-battery"


def _wait_message(app, lang: str, minutes: int) -> str:
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale(lang):
        return ngettext(
            "Too many failed login attempts. Please wait %(num)d minute and try again.",
            "Too many failed login attempts. Please wait %(num)d minutes and try again.",
            minutes,
        )


def _post_login(client, slug, email, password=PASSWORD, address=None, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post(
        portal_url(slug, "/login"), data={"email": email, "password": password}, headers=headers, environ_base=environ
    )


def _let_the_wait_pass(redis_server) -> None:
    """What a minute (or more) of waiting does to a locked account: its current lock expires."""
    client = redis_server.client()
    for key in client.scan_iter(match="*login-lock*"):
        client.delete(key)


def _events(app, tenant_id):
    with app.app_context():
        which = SecurityEvent.tenant_id.is_(None) if tenant_id is None else SecurityEvent.tenant_id == tenant_id
        rows = db.session.scalars(select(SecurityEvent).where(which).order_by(SecurityEvent.id)).all()
        return [(row.kind, row.email, row.subject_user_id, dict(row.params or {})) for row in rows]


def test_an_office_behind_one_address_is_never_slowed_by_its_successful_logins(app, make_tenant, make_user):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    for _ in range(80):  # more logins than the address's budget of failures, all successful (each a new browser)
        assert _post_login(app.test_client(), "exea", "anna@firma.pl", address="198.51.100.7").status_code == 302
    assert _post_login(app.test_client(), "exea", "anna@firma.pl", "typo", address="198.51.100.7").status_code == 422
    assert _post_login(app.test_client(), "exea", "anna@firma.pl", address="198.51.100.7").status_code == 302


def test_a_sprayer_is_slowed_at_one_portal_and_address_only(app, make_tenant, make_user):
    exea, festum = make_tenant("exea"), make_tenant("festum")
    make_user(exea, "piotr@firma.pl")
    make_user(festum, "liisa@yritys.fi")
    sprayer = app.test_client()
    for n in range(60):
        assert _post_login(sprayer, "exea", f"guess{n}@firma.pl", "123456", address="203.0.113.5").status_code == 422
    slowed = _post_login(sprayer, "exea", "guess61@firma.pl", "123456", address="203.0.113.5")
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) <= 60
    assert _wait_message(app, "pl", 1) in slowed.get_data(as_text=True)
    # Another office, and the same address at another vendor's portal, are not affected.
    assert _post_login(app.test_client(), "exea", "piotr@firma.pl", address="192.0.2.44").status_code == 302
    assert _post_login(app.test_client(), "festum", "liisa@yritys.fi", address="203.0.113.5").status_code == 302


def test_an_accounts_wait_doubles_with_each_further_failure_and_a_success_forgets(
    app, redis_server, make_tenant, make_user
):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    client = app.test_client()
    waits = []
    for _ in range(5):
        assert _post_login(client, "exea", "anna@firma.pl", "wrong").status_code == 422
    for _ in range(5):
        locked = _post_login(client, "exea", "anna@firma.pl")
        assert locked.status_code == 429
        waits.append(int(locked.headers["Retry-After"]))
        _let_the_wait_pass(redis_server)
        assert _post_login(client, "exea", "anna@firma.pl", "wrong").status_code == 422
    assert [round(wait / 60) for wait in waits] == [1, 2, 4, 8, 15]
    blocked = _post_login(client, "exea", "anna@firma.pl")
    assert _wait_message(app, "pl", 15) in blocked.get_data(as_text=True)
    _let_the_wait_pass(redis_server)
    assert _post_login(client, "exea", "anna@firma.pl").status_code == 302  # after the wait, the right password
    client.post(portal_url("exea", "/logout"))
    for _ in range(4):  # the success forgot the failures: four more are free again
        assert _post_login(client, "exea", "anna@firma.pl", "wrong").status_code == 422
    assert _post_login(client, "exea", "anna@firma.pl").status_code == 302


def test_unknown_addresses_wait_like_known_ones(app, make_tenant, make_user):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    for email in ("anna@firma.pl", "nobody@firma.pl"):
        client = app.test_client()
        for _ in range(5):
            assert _post_login(client, "exea", email, "wrong").status_code == 422
        assert _post_login(client, "exea", email, "wrong").status_code == 429


def test_the_security_trail_records_failures_the_lock_and_the_success(app, redis_server, make_tenant, make_user):
    exea = make_tenant("exea")
    anna = make_user(exea, "anna@firma.pl")
    client = app.test_client()
    for _ in range(5):
        _post_login(client, "exea", "Anna@Firma.pl", "wrong")
    _post_login(client, "exea", "nobody@firma.pl", "wrong")
    _let_the_wait_pass(redis_server)
    _post_login(client, "exea", "anna@firma.pl")
    trail = _events(app, exea.id)
    assert trail == (
        [(events.LOGIN_FAILED, "anna@firma.pl", anna, {})] * 5
        + [
            (events.ACCOUNT_LOCKED, "anna@firma.pl", anna, {"failures": 5}),
            (events.LOGIN_FAILED, "nobody@firma.pl", None, {}),
            (events.LOGIN_SUCCEEDED, "anna@firma.pl", anna, {}),
        ]
    )


def test_the_operator_login_waits_and_is_recorded_the_same_way(app, make_tenant):
    from app.accounts.models import Operator
    from app.accounts.hashing import hash_password

    make_tenant("exea")
    with app.app_context():
        db.session.add(Operator(email="operator@portal.test", password_hash=hash_password("operator-password")))
        db.session.commit()
    client = app.test_client()
    for _ in range(5):
        assert _post_login(client, None, "operator@portal.test", "wrong").status_code == 422
    assert _post_login(client, None, "operator@portal.test", "operator-password").status_code == 429
    # The same address at a tenant's portal is another account, with its own count.
    assert _post_login(client, "exea", "operator@portal.test", "wrong").status_code == 422
    kinds = [kind for kind, *_rest in _events(app, None)]
    assert kinds == [events.LOGIN_FAILED] * 5 + [events.ACCOUNT_LOCKED]


def test_behind_a_proxy_clients_are_told_apart_by_x_forwarded_for(app_config, make_tenant, make_user):
    from app import create_app

    proxied = create_app({**app_config, "PROXY_FIX_X_FOR": 1, "LOGIN_FAILURES_PER_IP": "5/minute"})
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    proxy = "10.0.0.2"  # every request arrives from the proxy
    for n in range(5):
        _post_login(proxied.test_client(), "exea", f"guess{n}@firma.pl", "x", address=proxy, forwarded="203.0.113.5")
    assert (
        _post_login(
            proxied.test_client(), "exea", "guess9@firma.pl", "x", address=proxy, forwarded="203.0.113.5"
        ).status_code
        == 429
    )
    assert (
        _post_login(proxied.test_client(), "exea", "anna@firma.pl", address=proxy, forwarded="198.51.100.7").status_code
        == 302
    )
    # A client cannot choose its own address by sending the header: the proxy appends the real one.
    assert (
        _post_login(
            proxied.test_client(), "exea", "anna@firma.pl", address=proxy, forwarded="198.51.100.99, 203.0.113.5"
        ).status_code
        == 429
    )


def test_without_a_proxy_x_forwarded_for_is_ignored(app_config, make_tenant, make_user):
    from app import create_app

    direct = create_app({**app_config, "LOGIN_FAILURES_PER_IP": "5/minute"})
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    for n in range(5):
        _post_login(
            direct.test_client(), "exea", f"guess{n}@firma.pl", "x", address="203.0.113.5", forwarded=f"198.51.100.{n}"
        )
    assert (
        _post_login(
            direct.test_client(), "exea", "anna@firma.pl", address="203.0.113.5", forwarded="192.0.2.1"
        ).status_code
        == 429
    )


def test_limits_hold_in_memory_while_redis_is_down(database_url, make_tenant, make_user):
    from app import create_app

    down = create_app(_config(database_url, REDIS_URL="redis://127.0.0.1:1/0", LOGIN_FAILURES_PER_IP="8/minute"))
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    client = down.test_client()
    for _ in range(5):
        assert _post_login(client, "exea", "anna@firma.pl", "wrong").status_code == 422
    assert _post_login(client, "exea", "anna@firma.pl").status_code == 429  # the account waits
    for n in range(3):
        _post_login(client, "exea", f"guess{n}@firma.pl", "wrong")
    assert _post_login(client, "exea", "piotr@firma.pl", "wrong").status_code == 429  # the address is slowed
