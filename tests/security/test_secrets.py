"""Secure defaults and secrets (ASVS 2.10.4, 6.4.1, 14.1): without PORTAL_ENV the app is production and
refuses to start without real secrets, in one line; rotating SECRET_KEY keeps sessions, signed links
and the stored mailbox passwords working."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app import create_app
from tests.conftest import portal_url

ROOT = Path(__file__).resolve().parents[2]
OLD_KEY = "o" * 20 + "-old-secret-key-of-40-bytes"
NEW_KEY = "n" * 20 + "-new-secret-key-of-40-bytes"


def _start(tmp_path, **variables):
    """`flask --app wsgi routes` in a clean environment (no PORTAL_ENV unless given)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PORTAL_ENV", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "MAILBOX_ENCRYPTION_KEYS")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        STORAGE_URL=f"file://{tmp_path / 'storage'}",
        REDIS_URL="redis://127.0.0.1:1/0",
        PORTAL_CLI_LANGUAGE="en",
        **variables,
    )
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_portal_env_a_missing_secret_key_stops_the_start_in_one_line(tmp_path):
    result = _start(tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert "/login" not in result.stdout


def test_a_short_secret_key_or_a_missing_mailbox_key_is_refused(tmp_path):
    short = _start(tmp_path, SECRET_KEY="too-short")
    assert short.returncode != 0 and "SECRET_KEY" in short.stderr and len(short.stderr.strip().splitlines()) == 1
    no_mailbox_key = _start(tmp_path, SECRET_KEY=NEW_KEY)
    assert no_mailbox_key.returncode != 0 and "MAILBOX_ENCRYPTION_KEYS" in no_mailbox_key.stderr
    assert len(no_mailbox_key.stderr.strip().splitlines()) == 1
    bad_mailbox_key = _start(tmp_path, SECRET_KEY=NEW_KEY, MAILBOX_ENCRYPTION_KEYS="not-a-fernet-key")
    assert bad_mailbox_key.returncode != 0 and "MAILBOX_ENCRYPTION_KEYS" in bad_mailbox_key.stderr
    ok = _start(tmp_path, SECRET_KEY=NEW_KEY, MAILBOX_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    assert ok.returncode == 0, ok.stderr
    assert "/login" in ok.stdout


def test_the_default_posture_is_production(monkeypatch):
    from app.config import ConfigurationError

    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app({"DATABASE_URL": "sqlite://"})
    app = create_app(
        {"DATABASE_URL": "sqlite://", "SECRET_KEY": NEW_KEY, "MAILBOX_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    )
    assert app.config["ENV"] == "production" and not app.config["TESTING"]


def test_rotating_the_secret_key_keeps_sessions_links_and_mailbox_passwords(app_config, make_tenant, make_user):
    from app.accounts.tokens import RESET_PASSWORD, make_token, read_token
    from app.extensions import db
    from app.mailin.models import Mailbox
    from app.mailin.mailboxes import decrypt_password, set_mailbox
    from app.outbox.links import VIEW, make_link_token, read_link_token
    from app.tenancy.scoping import tenant_scope

    before = create_app(dict(app_config, SECRET_KEY=OLD_KEY))
    tenant = make_tenant("targito")
    make_user(tenant, "zakaznik@firma.cz")
    client = before.test_client()
    assert (
        client.post(
            portal_url("targito", "/login"), data={"email": "zakaznik@firma.cz", "password": "correct-horse-battery"}
        ).status_code
        == 302
    )
    assert client.get(portal_url("targito", "/profile")).status_code == 200
    with before.app_context(), tenant_scope(tenant.id):
        from app.accounts.models import User

        user = db.session.scalars(db.select(User)).one()
        user_id = user.id
        reset = make_token(RESET_PASSWORD, user)
        view = make_link_token(VIEW, tenant_id=tenant.id, ticket_id=1, user_id=user.id, address=user.email)
        set_mailbox(host="imap.example.com", username="support@firma.cz", password="mailbox-secret")
        db.session.commit()  # the boundary of `flask mail mailbox set`

    rotated = create_app(dict(app_config, SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=OLD_KEY))
    # The same browser, its cookie signed with the old key: still logged in.
    client.application = rotated
    assert client.get(portal_url("targito", "/profile")).status_code == 200
    with rotated.app_context(), tenant_scope(tenant.id):
        assert read_token(RESET_PASSWORD, reset, tenant.id)["u"] == user_id
        assert read_link_token(VIEW, view, tenant.id)["u"] == user_id
        assert decrypt_password(db.session.scalars(db.select(Mailbox)).one().password_encrypted) == "mailbox-secret"

    # Without the fallback the old signatures are worthless: the fallback is what keeps them.
    forgotten = create_app(dict(app_config, SECRET_KEY=NEW_KEY))
    client.application = forgotten
    assert client.get(portal_url("targito", "/profile")).status_code == 302

    # A dedicated mailbox key: `flask mail rotate-key` re-encrypts, after which SECRET_KEY no longer matters.
    mailbox_key = Fernet.generate_key().decode()
    keyed = create_app(
        dict(app_config, SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=OLD_KEY, MAILBOX_ENCRYPTION_KEYS=mailbox_key)
    )
    result = keyed.test_cli_runner().invoke(args=["mail", "rotate-key"])
    assert result.exit_code == 0 and "1 mailbox password re-encrypted" in result.output
    later = create_app(
        dict(app_config, SECRET_KEY="l" * 40, MAILBOX_ENCRYPTION_KEYS=f"{Fernet.generate_key().decode()},{mailbox_key}")
    )
    with later.app_context(), tenant_scope(tenant.id):
        assert decrypt_password(db.session.scalars(db.select(Mailbox)).one().password_encrypted) == "mailbox-secret"
