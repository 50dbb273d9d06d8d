"""PostgreSQL session settings for an interactive app, passed as libpq connection options so
that they cost no statement per request:

- `jit=off` (DATABASE_JIT=on keeps PostgreSQL's default): the app's queries are short, and
  JIT compilation of a report or register query took longer (about 350 ms) than running it;
- `statement_timeout` (DATABASE_STATEMENT_TIMEOUT_MS, milliseconds; 0 or unset: none): a
  statement running longer is cancelled and the page answers an error instead of holding a
  worker. gunicorn.conf.py sets it for the web workers (below gunicorn's worker timeout);
  `flask` commands (exports, backups, audit verify) do not read gunicorn.conf.py and run
  without it.

SQLite ignores both.
"""

from __future__ import annotations

from flask import Flask


def connection_options(config) -> str:
    """The libpq `options` string for the app's PostgreSQL connections ("" for none)."""
    options = []
    if str(config.get("DATABASE_JIT") or "off").lower() in ("off", "0", "false", "no"):
        options.append("-c jit=off")
    timeout = int(config.get("DATABASE_STATEMENT_TIMEOUT_MS") or 0)
    if timeout > 0:
        options.append(f"-c statement_timeout={timeout}")
    return " ".join(options)


def apply(app: Flask) -> None:
    """Add the options to the engine settings (before `db.init_app`), for PostgreSQL only."""
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        return
    options = connection_options(app.config)
    if not options:
        return
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(engine_options.get("connect_args") or {})
    given = connect_args.get("options", "")
    connect_args["options"] = f"{given} {options}".strip()
    engine_options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
