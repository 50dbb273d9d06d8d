"""Notifications benchmark: the workflow's fire rate with the notification hook against the
rate without it, measured in the same run (issue 11: with >= 90% of without).

    .venv/bin/python bench/notifications.py                    # SQLite (a temporary file)
    .venv/bin/python bench/notifications.py --database-url postgresql+psycopg://.../hta_bench

Each fire is `admit` on a request in intake review, committed, as a web request would do;
with notifications it also writes the manufacturer's "status changed" notification for each
of its users (two here: one recipient query and one INSERT). Rounds alternate between the
two set-ups (with, without, with ...), so that both see the same machine; the figure is the
ratio of the median round rates.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from app import create_app

# Importing app.core.fire first runs into a circular import (app.requests <-> app.documents);
# the factory imports the modules in an order that works, so build one app before.
create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})

from app.core import transition_hooks  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Notification, User  # noqa: E402
from bench.workflow import (  # noqa: E402
    NOW,
    database_url,
    fire_once,
    reset_schema,
    seed_people,
    seed_submitted_requests,
    settle,
)

TARGET_SHARE = 0.90


def add_manufacturer_users(manufacturer_id: int, count: int = 2) -> None:
    for n in range(count):
        db.session.add(
            User(
                email=f"maker{n}@bench.example",
                password_hash="-",
                role="manufacturer",
                organisation_id=manufacturer_id,
            )
        )
    db.session.commit()


def without_notifications():
    """Take the notification hook out of the registry; returns a function putting it back."""
    from app.notifications.hooks import notify_transition  # registered by create_app

    removed = []
    for key, hooks in transition_hooks._after.items():
        if notify_transition in hooks:
            hooks.remove(notify_transition)
            removed.append(key)

    def restore():
        for key in removed:
            transition_hooks._after[key].append(notify_transition)

    return restore


def run_round(ids: list[int], agency_id: int, offset: int) -> float:
    started = time.perf_counter()
    for n, request_id in enumerate(ids):
        fire_once(request_id, agency_id, NOW + timedelta(seconds=offset + n))
    return len(ids) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--fires", type=int, default=3000, help="in total, both set-ups")
    parser.add_argument("--rounds", type=int, default=10, help="rounds, alternating")
    arguments = parser.parse_args()
    url, label = database_url(arguments)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        reset_schema()
        agency_id, manufacturer_id = seed_people()
        add_manufacturer_users(manufacturer_id)
        ids = seed_submitted_requests(arguments.fires, manufacturer_id)
        settle()
        size = len(ids) // arguments.rounds
        rates: dict[bool, list[float]] = {True: [], False: []}
        for number in range(arguments.rounds):
            with_notifications = number % 2 == 0
            chunk = ids[number * size : (number + 1) * size]
            restore = None if with_notifications else without_notifications()
            try:
                rates[with_notifications].append(run_round(chunk, agency_id, number * size))
            finally:
                if restore:
                    restore()
        written = db.session.scalar(select(func.count()).select_from(Notification))
        with_rate = statistics.median(rates[True])
        without_rate = statistics.median(rates[False])
        share = with_rate / without_rate
        print(f"{label}: {size} fires per round, {arguments.rounds} rounds (alternating)")
        print(f"  without notifications: {without_rate:7.1f} fires/s (median round)")
        print(f"  with notifications:    {with_rate:7.1f} fires/s ({written} notifications)")
        verdict = "ok" if share >= TARGET_SHARE else "BELOW TARGET"
        print(f"  with / without: {share:.1%} (target >= {TARGET_SHARE:.0%}): {verdict}")


if __name__ == "__main__":
    main()
