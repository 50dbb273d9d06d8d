"""HTA Tracker: the application factory.

`create_app()` only wires: config, extensions, blueprints, error pages, template helpers and
CLI commands. It never touches the database.
"""

from __future__ import annotations

import os
import secrets
from inspect import iscoroutinefunction
from pathlib import Path

from flask import Flask

from config import Config, config_for


class HtaFlask(Flask):
    """Flask, with `ensure_sync` answered once per function.

    Flask passes every request hook, view and error handler through `ensure_sync` on every
    request (about 25 calls per page), and each call asks `inspect.iscoroutinefunction`
    afresh. Whether a function is a coroutine function never changes, so the answer is kept
    per function (a bound method by its function: a class-based view's method is bound anew
    per request). Every hook here is synchronous; an `async def` would still be wrapped."""

    SYNC_ANSWERS_LIMIT = 4096  # (functions made per request would be kept: a bound)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._is_coroutine: dict = {}

    def ensure_sync(self, func):
        key = getattr(func, "__func__", func)
        try:
            is_coroutine = self._is_coroutine[key]
        except KeyError:
            is_coroutine = iscoroutinefunction(func)
            if len(self._is_coroutine) >= self.SYNC_ANSWERS_LIMIT:
                self._is_coroutine.clear()
            self._is_coroutine[key] = is_coroutine
        except TypeError:  # (an unhashable callable)
            return super().ensure_sync(func)
        return self.async_to_sync(func) if is_coroutine else func


def create_app(config_name: str | None = None, test_config: dict | None = None) -> Flask:
    instance_dir = (test_config or {}).get("INSTANCE_DIR") or os.environ.get("HTA_INSTANCE_DIR")
    app = HtaFlask(__name__, instance_path=instance_dir and str(Path(instance_dir).resolve()))
    app.config.from_object(config_for(config_name))
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _resolve_database_url(app)
    _resolve_secret_key(app)
    _trust_proxies(app)
    _register_extensions(app)
    _register_url_converters(app)
    _register_blueprints(app)
    _register_operations(app)
    _register_template_helpers(app)
    _register_cli(app)
    return app


def _resolve_database_url(app: Flask) -> None:
    url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = f"sqlite:///{Path(app.instance_path) / 'hta.sqlite3'}"
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("postgres://"):  # the old Heroku-style scheme SQLAlchemy refuses
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if (
        app.config["ENV_NAME"] == "production"
        and url.startswith("sqlite")
        and not app.config.get("ALLOW_SQLITE_IN_PRODUCTION")
    ):
        raise RuntimeError(
            "Production refuses SQLite: set DATABASE_URL to PostgreSQL, "
            "or ALLOW_SQLITE_IN_PRODUCTION=1 for a single-machine deployment."
        )


def _resolve_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV_NAME"] == "production":
        raise RuntimeError("Production refuses to start without SECRET_KEY.")
    # Development: generate once and keep it, so sessions survive a restart.
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        os.chmod(key_file, 0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _trust_proxies(app: Flask) -> None:
    """Behind a load balancer, take the client address and scheme from X-Forwarded-* headers
    (the audit trail records the client IP). TRUSTED_PROXY_HOPS says how many proxies to trust."""
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _register_extensions(app: Flask) -> None:
    from app import (
        models,  # noqa: F401  (registers the tables on the metadata)
        security,
        sqlite_reads,
    )
    from app.accounts.session import configure_login
    from app.core import database_settings
    from app.core.transition_hooks import load_hook_modules
    from app.extensions import babel, csrf, db, migrate
    from app.i18n import (
        forget_cached_locale,
        install_request_translations,
        select_locale,
        select_timezone,
    )

    database_settings.apply(app)  # JIT off, the web workers' statement timeout
    db.init_app(app)
    sqlite_reads.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent.parent / "migrations"),
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
        compare_type=True,
    )
    csrf.init_app(app)
    security.init_app(app)  # rate limits (Flask-Limiter) and security headers
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_request_translations(babel, app)
    app.before_request(forget_cached_locale)
    configure_login(app)
    load_hook_modules()


# The feature packages whose VIEW_MODULES add the routes to their blueprints.
FEATURE_PACKAGES = (
    "app.accounts",
    "app.admin",
    "app.adoption",
    "app.api",
    "app.assessment",
    "app.documents",
    "app.main",
    "app.needs",
    "app.notifications",
    "app.public",
    "app.reimbursement",
    "app.reports_pages",
    "app.requests",
    "app.safety",
    "app.workqueue",
)


def _import_views() -> None:
    """Import every feature's view modules (once per process: they add routes to the
    blueprints, which are registered on each app afterwards)."""
    import importlib

    for package in FEATURE_PACKAGES:
        for module in importlib.import_module(package).VIEW_MODULES:
            importlib.import_module(module)


def _register_url_converters(app: Flask) -> None:
    from app.routing import register_converters

    register_converters(app)


def _register_blueprints(app: Flask) -> None:
    _import_views()
    from app.accounts import auth_bp
    from app.accounts import bp as account_bp
    from app.admin import bp as admin_bp
    from app.adoption import bp as adoptions_bp
    from app.adoption import usage_bp
    from app.api import bp as api_bp
    from app.assessment import bp as assessment_bp
    from app.documents import bp as documents_bp
    from app.documents import public_bp as documents_public_bp
    from app.errors import register_error_handlers
    from app.main import bp as main_bp
    from app.needs import bp as needs_bp
    from app.notifications import bp as notifications_bp
    from app.notifications import init_app as init_notifications
    from app.public import bp as public_bp
    from app.reimbursement import bp as reimbursements_bp
    from app.reports_pages import bp as reports_bp
    from app.requests import actions_bp
    from app.requests import bp as requests_bp
    from app.safety import bp as safety_bp
    from app.workqueue import bp as workqueue_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(requests_bp, url_prefix="/requests")
    app.register_blueprint(workqueue_bp, url_prefix="/work")
    app.register_blueprint(reimbursements_bp, url_prefix="/reimbursements")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(public_bp, url_prefix="/register")
    app.register_blueprint(actions_bp, url_prefix="/requests")
    app.register_blueprint(documents_bp, url_prefix="/requests")
    app.register_blueprint(documents_public_bp, url_prefix="/register/documents")
    app.register_blueprint(assessment_bp, url_prefix="/requests")
    app.register_blueprint(usage_bp, url_prefix="/requests")
    app.register_blueprint(adoptions_bp, url_prefix="/adoptions")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(notifications_bp, url_prefix="/inbox")
    app.register_blueprint(needs_bp, url_prefix="/needs")
    app.register_blueprint(safety_bp, url_prefix="/safety")
    init_notifications(app)
    register_error_handlers(app)


def _register_operations(app: Flask) -> None:
    """Health and readiness probes, the JSON request log, Prometheus metrics."""
    from app.ops import init_app

    init_app(app)


def _register_template_helpers(app: Flask) -> None:
    from app.templating import register_template_helpers

    register_template_helpers(app)


def _register_cli(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)


__all__ = ["Config", "HtaFlask", "create_app"]
