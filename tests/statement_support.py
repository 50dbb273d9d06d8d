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


@contextmanager
def statements_while_rendering(app) -> Iterator[list[tuple[str, str]]]:
    """The SQL statements run while a template renders, as (template, statement) pairs.

    Armed by Flask's `before_render_template` signal and disarmed by `template_rendered`, so
    the view's own statements (and context processors, which run before the signal) do not
    count: a statement here means a template called a service or touched a lazy relationship.
    """
    from flask import before_render_template, template_rendered

    rendering: list[str] = []
    statements: list[tuple[str, str]] = []

    def arm(_sender, template, **_extra):
        rendering.append(template.name or "?")

    def disarm(_sender, template, **_extra):
        if rendering:
            rendering.pop()

    def before(_connection, _cursor, statement, *_args):
        if rendering and not _PLUMBING.match(statement):
            statements.append((rendering[-1], " ".join(statement.split())[:300]))

    engine = db.engine
    before_render_template.connect(arm, app)
    template_rendered.connect(disarm, app)
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
        template_rendered.disconnect(disarm, app)
        before_render_template.disconnect(arm, app)
