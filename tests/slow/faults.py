"""Helpers of the fault and race tests that talk to the server's PostgreSQL database."""

from __future__ import annotations

import time

import psycopg


def libpq(served) -> str:
    return served.server.database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def wait_for_lock_waiters(served, count: int, timeout: float = 30) -> list[int]:
    """The client ports of `count` backends of the server's database waiting for a lock
    (polled outside any transaction: pg_stat_activity is a snapshot within one)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(libpq(served), autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchall()
            if len(rows) >= count:
                return [row[0] for row in rows]
            time.sleep(0.05)
    raise AssertionError(f"fewer than {count} sessions reached the lock")
