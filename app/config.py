"""Settings from the environment, with embedded defaults for a development machine.

Every setting can be overridden by an environment variable of the same name, or by the mapping
passed to ``create_app(config)`` (tests do that).
"""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"


def _env(name: str, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load_settings(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping: defaults < environment < explicit overrides."""
    instance = Path(instance_path)
    overrides = dict(overrides or {})
    env = overrides.pop("ENV", _env("PORTAL_ENV", "development"))
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
        "TENANTS_DIR": _env("TENANTS_DIR", str(PROJECT_ROOT / "tenants")),
        "TENANT_CACHE_SECONDS": float(_env("TENANT_CACHE_SECONDS", "5")),
        "RQ_QUEUE": _env("RQ_QUEUE", "default"),
        "RQ_IS_ASYNC": True,
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

    if not settings["SECRET_KEY"]:
        if env in ("development", "testing"):
            settings["SECRET_KEY"] = DEV_SECRET_KEY
        else:
            raise RuntimeError("SECRET_KEY must be set outside development (PORTAL_ENV=%s)" % env)

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


def _normalize_database_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the common spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Several threads (dev server, test server) share the file; wait for locks.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}
