"""Configuration classes: development (default), testing and production.

`DATABASE_URL` picks the database; without it the app uses SQLite under the instance folder.
The factory resolves the SQLite default and the development secret, because both live in the
instance folder, which only the app object knows.
"""

from __future__ import annotations

import os


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL session settings (app/core/database_settings.py): JIT off unless "on"; a
    # statement timeout in ms (gunicorn.conf.py sets one for the web workers; CLI runs without).
    DATABASE_JIT = os.environ.get("DATABASE_JIT", "off")
    DATABASE_STATEMENT_TIMEOUT_MS = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS") or 0)
    # Production refuses SQLite unless this is set explicitly (single-machine deployments).
    ALLOW_SQLITE_IN_PRODUCTION = os.environ.get("ALLOW_SQLITE_IN_PRODUCTION") == "1"

    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

    # Uploads (documents) may be up to 50 MB; allow the form around them.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 55 * 1024 * 1024))
    DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", 50 * 1024 * 1024))
    # Where document bytes live: unset for <instance>/documents, or s3://bucket/prefix
    # (endpoint from S3_ENDPOINT_URL, credentials from the standard AWS_* environment).
    DOCUMENT_STORE: str | None = os.environ.get("DOCUMENT_STORE") or None
    S3_ENDPOINT_URL: str | None = os.environ.get("S3_ENDPOINT_URL") or None

    # Operations: the JSON log's level; the bearer token /metrics asks for (unset: loopback only).
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    METRICS_TOKEN: str | None = os.environ.get("METRICS_TOKEN") or None
    # The page benchmark's two baseline endpoints (app/ops/bench.py); never on in a deployment.
    BENCH_ENDPOINTS = os.environ.get("HTA_BENCH_ENDPOINTS") == "1"

    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    LANGUAGES = ("it", "en")
    DISPLAY_TIMEZONE = "Europe/Rome"

    # Email (notifications): without MAIL_SERVER, mails are written to instance/mail/*.eml.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "HTA Tracker <noreply@hta.local>")
    # Where the links in emails point (the address users open the app at).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Daily digests are sent from this hour on (Europe/Rome).
    NOTIFY_DIGEST_HOUR = int(os.environ.get("NOTIFY_DIGEST_HOUR", "7"))

    # Reports: usage figures of fewer IRCCS than this are blank for readers who may not see
    # each IRCCS's own (app.domain.redaction.small_group).
    REPORT_MIN_GROUP = int(os.environ.get("REPORT_MIN_GROUP", "3"))

    WTF_CSRF_TIME_LIMIT = None  # a form left open all morning must still save
    PAGE_SIZE = 25

    # --- Login defences (app/security.py, app/accounts/lockout.py) ---
    # Flask-Limiter's storage: memory for one server; redis://host:6379/0 so that the limits
    # hold across several app servers.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "hta")
    # Per client address and per account (the email typed), on every login form post.
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30/minute;300/day")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10/minute;50/day")
    # The second-factor step, the password change and failed API token checks, per address.
    SECOND_FACTOR_LIMIT_PER_ADDRESS = os.environ.get("SECOND_FACTOR_LIMIT", "10/minute")
    PASSWORD_CHANGE_LIMIT_PER_ADDRESS = os.environ.get("PASSWORD_CHANGE_LIMIT", "10/hour")
    API_TOKEN_FAILURE_LIMIT_PER_ADDRESS = os.environ.get("API_TOKEN_FAILURE_LIMIT", "20/minute")
    # "Forgot your password?": asking for a link, per address and per email typed; setting the
    # new password, per address. A link works once, for PASSWORD_RESET_MINUTES.
    PASSWORD_RESET_LIMIT_PER_ADDRESS = os.environ.get("PASSWORD_RESET_LIMIT", "10/hour")
    PASSWORD_RESET_LIMIT_PER_ACCOUNT = os.environ.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT", "3/hour")
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "30"))
    # Permission denials on objects are audited at most this often per user and object.
    DENIAL_AUDIT_LIMIT = os.environ.get("DENIAL_AUDIT_LIMIT", "1/minute")
    # This many failed logins in a row lock the account for LOGIN_LOCKOUT_MINUTES.
    LOGIN_LOCKOUT_THRESHOLD = int(os.environ.get("LOGIN_LOCKOUT_THRESHOLD", "5"))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))

    # --- Second factor (app/accounts/second_factor.py) ---
    SECOND_FACTOR_REQUIRED_ROLES = ("admin", "agency", "assessor")
    REMEMBER_DEVICE_DAYS = int(os.environ.get("REMEMBER_DEVICE_DAYS", "30"))  # at most 30

    # --- Sessions (app/accounts/session.py); 0 turns a timeout off ---
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
    SESSION_IDLE_MINUTES_PRIVILEGED = int(os.environ.get("SESSION_IDLE_MINUTES_PRIVILEGED", "30"))
    SESSION_PRIVILEGED_ROLES = ("admin", "agency")
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))

    # --- Response headers (app/security.py) ---
    HSTS_SECONDS = 0  # production: one year


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-not-for-production"  # noqa: S105 (the test suite only)
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = False
    DOCUMENT_STORE = None  # the local store under each test's instance folder
    METRICS_TOKEN = None
    # argon2 at production cost makes a large suite slow; tests check behaviour, not cost.
    ARGON2_FAST = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    # Session cookies go over HTTPS only. HTA_INSECURE_COOKIES=1 lifts that for one case: a
    # production-configured server on a loopback port over plain HTTP (the slow tests'
    # gunicorn, tests/slow/server.py), where HTTP clients would otherwise drop the cookie.
    SESSION_COOKIE_SECURE = os.environ.get("HTA_INSECURE_COOKIES") != "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = 365 * 24 * 3600


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    """Return the config class for `name` (default: HTA_ENV, else development)."""
    name = name or os.environ.get("HTA_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown HTA_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
