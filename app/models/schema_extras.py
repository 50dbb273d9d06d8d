"""Database objects that SQLAlchemy's metadata does not describe (triggers).

Used by the migrations and by the test fixture that builds the schema with `create_all`,
so both get the same database.
"""

from __future__ import annotations

from sqlalchemy import text

PG_AUDIT_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

PG_AUDIT_TRIGGER = """
CREATE TRIGGER audit_entries_append_only
BEFORE UPDATE OR DELETE ON audit_entries
FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
"""


def install_schema_extras(connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text(PG_AUDIT_APPEND_ONLY))
    connection.execute(text("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries"))
    connection.execute(text(PG_AUDIT_TRIGGER))


def remove_schema_extras(connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries"))
    connection.execute(text("DROP FUNCTION IF EXISTS audit_entries_append_only()"))
