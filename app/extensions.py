"""Unbound extension singletons; `create_app()` binds them to an app.

The SQLite tuning lives here too because it is a property of how we talk to the database,
not of any one app: WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so that a
read-then-write transaction takes the write lock up front instead of failing with
"database is locked" when a concurrent writer got there first (web requests that only read
begin DEFERRED instead, see app/sqlite_reads.py).
"""

from __future__ import annotations

import sqlite3

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from app import sqlite_reads

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Limits are declared where they apply (app/security.py names them); the storage comes from
# RATELIMIT_STORAGE_URI (memory, or Redis shared by several app servers).
limiter = Limiter(key_func=get_remote_address)

SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _tune_sqlite_connection(dbapi_connection, _connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event emit the BEGIN itself (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_immediate_on_sqlite(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    # IMMEDIATE, except in web requests that only read (app/sqlite_reads.py).
    begin = sqlite_reads.begin_statement()
    connection.exec_driver_sql(begin)
    connection.info["sqlite_deferred"] = begin == "BEGIN"


@event.listens_for(Engine, "before_cursor_execute")
def _no_write_in_a_read_only_request(connection, _cursor, statement, *_args) -> None:
    if connection.dialect.name == "sqlite":
        sqlite_reads.check_statement(statement, connection.info)
