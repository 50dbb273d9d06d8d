"""The suite's one SQL statement counter (also the `count_statements` fixture).

Pages and reports promise a constant number of statements however much data they show; the
tests count them with `counting_statements()`. Only the app's own statements count: not the
transaction plumbing of the test (the savepoints its commits become, the SQLite BEGIN hook),
so a count is the same whether the test's commits are real (`own_app`) or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db

_PLUMBING = re.compile(r"^\s*(BEGIN|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.I)


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block (a list, filled as they run)."""
    statements: list[str] = []

    def before(_connection, _cursor, statement, *_args):
        if not _PLUMBING.match(statement):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
