"""Settings from the environment, with embedded defaults for a development machine.

Every setting can be overridden by an environment variable of the same name, or by the mapping
passed to ``create_app(config)`` (tests do that).
"""

import os
from pathlib import Path

import click

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"
# Anything that is not `make run` / `make test` is production unless it says otherwise.
DEFAULT_ENV = "production"
DEVELOPMENT_ENVS = ("development", "testing")
MIN_SECRET_KEY_BYTES = 32


class ConfigurationError(click.ClickException):
    """A setting without which the app must not start: one line naming the variable, no traceback
    (``flask`` prints it as an error; ``wsgi.py`` prints it and exits non-zero)."""


def _list(value) -> list[str]:
    """A comma-separated setting (or a list given by a test) as a list of non-empty strings."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


def signing_keys(config) -> list[str]:
    """The keys an itsdangerous serializer takes, oldest to newest (the last one signs): the
    SECRET_KEY_FALLBACKS, then SECRET_KEY. Links signed before a rotation keep working."""
    return [*config.get("SECRET_KEY_FALLBACKS", []), config["SECRET_KEY"]]


def _env(name: str, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load_settings(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping: defaults < environment < explicit overrides."""
    instance = Path(instance_path)
    overrides = dict(overrides or {})
    env = overrides.pop("ENV", _env("PORTAL_ENV", DEFAULT_ENV))
    settings = {
        "ENV": env,
        "DATABASE_URL": _env("DATABASE_URL", f"sqlite:///{instance / 'portal.sqlite3'}"),
        # None means: start (or reuse) the embedded Redis-protocol server under instance/.
        "REDIS_URL": _env("REDIS_URL"),
        "STORAGE_URL": _env("STORAGE_URL", f"file://{instance / 'storage'}"),
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_REGION": _env("S3_REGION", "us-east-1"),
        "S3_ACCESS_KEY_ID": _env("S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": _env("S3_SECRET_ACCESS_KEY"),
        "MAIL_URL": _env("MAIL_URL", f"maildir://{instance / 'outbox'}"),
        "MAIL_FROM": _env("MAIL_FROM", "support@{domain}"),
        "PORTAL_DOMAIN": _env("PORTAL_DOMAIN", "localhost:5000"),
        "PREFERRED_URL_SCHEME": _env("PREFERRED_URL_SCHEME", "http"),
        "SECRET_KEY": _env("SECRET_KEY"),
        # Former secret keys, newest first or in any order (comma-separated): sessions and signed links
        # made with them stay valid after SECRET_KEY is rotated. Drop them once those have expired.
        "SECRET_KEY_FALLBACKS": _env("SECRET_KEY_FALLBACKS"),
        # Fernet keys of the stored mailbox passwords (comma-separated; the first encrypts, all
        # decrypt), independent of SECRET_KEY. Required in production; derived from SECRET_KEY in
        # development. `flask mail rotate-key` re-encrypts every password with the first key.
        "MAILBOX_ENCRYPTION_KEYS": _env("MAILBOX_ENCRYPTION_KEYS"),
        # Hosts or networks (comma-separated: imap.example.com, 127.0.0.1, 10.0.0.0/8, ::1) that a
        # tenant's IMAP mailbox may use although they are private, local or on a port other than 143
        # and 993. Empty: only public addresses on the IMAP ports.
        "MAILBOX_ALLOWED_HOSTS": _env("MAILBOX_ALLOWED_HOSTS"),
        "TENANTS_DIR": _env("TENANTS_DIR", str(PROJECT_ROOT / "tenants")),
        "TENANT_CACHE_SECONDS": float(_env("TENANT_CACHE_SECONDS", "5")),
        "RQ_QUEUE": _env("RQ_QUEUE", "default"),
        "RQ_IS_ASYNC": True,
        # Behind a reverse proxy: how many proxies in front of the app set X-Forwarded-For, -Proto and
        # -Host (Werkzeug's ProxyFix). 0, the default: not behind a proxy, and those headers, which
        # anyone can send, are ignored (rate limits then count the connecting address).
        "PROXY_FIX_X_FOR": int(_env("PROXY_FIX_X_FOR", "0")),
        "PROXY_FIX_X_PROTO": int(_env("PROXY_FIX_X_PROTO", "0")),
        "PROXY_FIX_X_HOST": int(_env("PROXY_FIX_X_HOST", "0")),
        # Failed logins allowed per client address and portal, as Flask-Limiter reads a rate: a
        # slow-down for password sprayers, never a wall for an office (successful logins are free).
        "LOGIN_FAILURES_PER_IP": _env("LOGIN_FAILURES_PER_IP", "60/minute"),
        # Bearer token of POST /mailgate/<slug> (raw inbound e-mail from an MTA or a webhook); unset: refused.
        "MAILGATE_TOKEN": _env("MAILGATE_TOKEN"),
        # The largest request body in bytes (all files of one form together); larger ones get a 413
        # page before anything is read. Tenants' per-file limits (max_attachment_mb) stay below it.
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(50 * 1024 * 1024))),
        # The language of `flask` command output (hu, fi, cs, pl, en); unset: the operator's POSIX
        # locale (LC_ALL / LC_MESSAGES / LANG), else English. Never the tenant's language.
        "PORTAL_CLI_LANGUAGE": _env("PORTAL_CLI_LANGUAGE"),
        # argon2id cost: argon2-cffi's defaults (RFC 9106 low-memory) unless told otherwise; the test
        # suite lowers it, since its thousands of logins test behaviour, not the hash's strength.
        "PASSWORD_HASH_TIME_COST": int(_env("PASSWORD_HASH_TIME_COST", "3")),
        "PASSWORD_HASH_MEMORY_KIB": int(_env("PASSWORD_HASH_MEMORY_KIB", "65536")),
        # A login ends after this many minutes without a request, and this many hours after it
        # began however active it is (ASVS 3.3.2, level 2: 30 minutes idle, 12 hours).
        "SESSION_IDLE_MINUTES": int(_env("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(_env("SESSION_MAX_HOURS", "12")),
    }
    settings.update(overrides)

    for name in ("SECRET_KEY_FALLBACKS", "MAILBOX_ENCRYPTION_KEYS", "MAILBOX_ALLOWED_HOSTS"):
        settings[name] = _list(settings.get(name))
    if not settings["SECRET_KEY"] and env in DEVELOPMENT_ENVS:
        settings["SECRET_KEY"] = DEV_SECRET_KEY
    if env not in DEVELOPMENT_ENVS:
        _check_production_secrets(settings, env)

    settings["SQLALCHEMY_DATABASE_URI"] = _normalize_database_url(settings["DATABASE_URL"])
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(settings["SQLALCHEMY_DATABASE_URI"])
    settings["TESTING"] = env == "testing" or settings.get("TESTING", False)

    # Subdomain routing: <slug>.<PORTAL_DOMAIN> is a tenant portal, the bare domain the platform.
    domain = settings["PORTAL_DOMAIN"]
    settings["SERVER_NAME"] = domain
    host_only = domain.split(":")[0]
    settings["TRUSTED_HOSTS"] = [host_only, "." + host_only]
    # Host-only cookies: a session made on flexinform.<domain> is never sent to targito.<domain>.
    settings["SESSION_COOKIE_DOMAIN"] = None
    settings["SESSION_COOKIE_HTTPONLY"] = True
    settings["SESSION_COOKIE_SAMESITE"] = "Lax"
    settings["SESSION_COOKIE_SECURE"] = settings["PREFERRED_URL_SCHEME"] == "https"
    settings["REMEMBER_COOKIE_DOMAIN"] = None
    settings["REMEMBER_COOKIE_HTTPONLY"] = True
    # No "keep me logged in" is offered; should Flask-Login ever write its cookie, it is as guarded.
    settings["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    settings["REMEMBER_COOKIE_SECURE"] = settings["PREFERRED_URL_SCHEME"] == "https"

    settings["BABEL_DEFAULT_LOCALE"] = "en"
    settings["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")
    settings["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    return settings


def _check_production_secrets(settings: dict, env: str) -> None:
    """Refuse to start without real secrets (ASVS 2.10.4, 6.4.1): a missing or short SECRET_KEY would
    let anyone forge sessions and links; mailbox passwords need a key of their own."""
    key = settings["SECRET_KEY"] or ""
    if not key:
        raise ConfigurationError(
            f"SECRET_KEY is not set (PORTAL_ENV={env}): set it to a random value of at least "
            f"{MIN_SECRET_KEY_BYTES} bytes, e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if key == DEV_SECRET_KEY or len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"SECRET_KEY is too short or the development key (PORTAL_ENV={env}): it must be a random value of "
            f"at least {MIN_SECRET_KEY_BYTES} bytes"
        )
    if not settings["MAILBOX_ENCRYPTION_KEYS"]:
        raise ConfigurationError(
            f"MAILBOX_ENCRYPTION_KEYS is not set (PORTAL_ENV={env}): set it to a Fernet key, e.g. the output of: "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    from cryptography.fernet import Fernet

    for value in settings["MAILBOX_ENCRYPTION_KEYS"]:
        try:
            Fernet(value)
        except ValueError:
            raise ConfigurationError(
                "MAILBOX_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None


def _normalize_database_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the common spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Several threads (dev server, test server) share the file; wait for locks.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}
