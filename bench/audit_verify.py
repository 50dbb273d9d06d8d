"""Benchmark of `flask audit verify`: entries per second over a long hash chain.

    .venv/bin/python bench/audit_verify.py --entries 1000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/audit_bench
    .venv/bin/python bench/audit_verify.py --reuse --database-url ...   # keep the chain

It writes a chain of synthetic entries (the mix a request's life leaves: transitions with small
`data`, dossier edits with `changes`, Italian text) with the reference hash
(`app.domain.audit_chain.entry_hash`), straight into the tables of a database of its own (its
schema is dropped and recreated: never point it at real data), then measures in the same run:

- read only: streaming every row in chain order, no hashing (the floor the database sets);
- verify: `verify_chain()`, what `flask audit verify` runs (wall and CPU seconds, entries/s);
- before: the previous path (a dict per row through `check_chain`), on the first
  `--before-entries` entries, for the ratio.

About 10 entries per request: 1.04M entries is what 100k requests leave.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BATCH = 10_000
START = datetime(2022, 1, 3, 8, tzinfo=UTC)
ACTIONS = (
    ("submit", "draft", "intake_review"),
    ("admit", "intake_review", "awaiting_prioritisation"),
    ("prioritise", "awaiting_prioritisation", "assignment"),
    ("assign", "assignment", "assessment"),
    ("request_information", "assessment", "information_requested"),
    ("answer_information", "information_requested", "assessment"),
    ("submit_report", "assessment", "factual_accuracy_check"),
    ("recommend", "appraisal", "recommended"),
)


def _entry(rng: random.Random, seq: int, moment: datetime) -> dict:
    request_id = 1 + seq // 10
    if rng.random() < 0.25:  # a dossier edit
        action, from_state, to_state = "edit_dossier", None, None
        data = {}
        changes = {
            "trade_name": ["Valvola «CardioX»", f"Valvola CardioX {seq}"],
            "price": "1200.50",
        }
    else:
        action, from_state, to_state = ACTIONS[seq % len(ACTIONS)]
        data = {"version": seq % 7, "note": "è già stato verificato"} if seq % 3 else {}
        changes = {}
    return {
        "seq": seq,
        "occurred_at": moment,
        "actor_id": 1 + seq % 50,
        "actor_name": f"user{seq % 50}@example.org",
        "actor_role": "agency",
        "actor_org_id": 1 + seq % 9,
        "entity_type": "request",
        "entity_id": request_id,
        "request_id": request_id,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "reason": "Motivazione: dati clinici insufficienti" if seq % 5 == 0 else "",
        "data": data,
        "changes": changes,
        "ip": "192.0.2.1" if seq % 2 else None,
    }


def build(app, entries: int) -> float:
    """Drop and recreate the schema, write the chain; returns the seconds it took."""
    from sqlalchemy import insert, text

    from app.domain.audit_chain import GENESIS_HASH, entry_hash
    from app.extensions import db
    from app.models import AuditChainHead, AuditEntry

    started = time.perf_counter()
    rng = random.Random(7)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
        db.create_all()
        table, previous, moment, rows = AuditEntry.__table__, GENESIS_HASH, START, []
        with db.engine.begin() as connection:
            for seq in range(1, entries + 1):
                moment += timedelta(seconds=rng.randint(1, 120), microseconds=rng.randint(0, 999))
                row = _entry(rng, seq, moment) | {"prev_hash": previous}
                row["hash"] = previous = entry_hash(row)
                rows.append(row)
                if len(rows) == BATCH:
                    connection.execute(insert(table), rows)
                    rows.clear()
            if rows:
                connection.execute(insert(table), rows)
            connection.execute(
                insert(AuditChainHead.__table__).values(id=1, last_seq=entries, last_hash=previous)
            )
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE audit_entries")
                )
    return time.perf_counter() - started


def _timed(work) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def measure(app, before_entries: int) -> dict:
    from sqlalchemy import select

    from app.core.audit import ENTRY_COLUMNS, _stream_rows, verify_chain
    from app.domain.audit_chain import check_chain
    from app.extensions import db
    from app.models import AuditEntry

    figures = {}
    with app.app_context():
        connection = db.session.connection()

        def read_only():
            return sum(1 for _ in _stream_rows(connection))

        count, wall, cpu = _timed(read_only)
        figures["read only"] = (count, wall, cpu)
        report, wall, cpu = _timed(verify_chain)
        assert report.ok, report
        figures["verify"] = (report.checked, wall, cpu)

        def before():
            result = connection.execution_options(yield_per=2000).execute(
                select(*ENTRY_COLUMNS).order_by(AuditEntry.seq)
            )
            rows = (row._asdict() for row in islice(result, before_entries))
            report = check_chain(rows)
            result.close()
            return report

        report, wall, cpu = _timed(before)
        assert report.ok, report
        figures["before (dict per row)"] = (report.checked, wall, cpu)
        db.session.rollback()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a database of its own")
    parser.add_argument("--entries", type=int, default=1_040_000)
    parser.add_argument("--before-entries", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the chain already there")
    args = parser.parse_args(argv)

    from app import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": args.database_url})
    if not args.reuse:
        seconds = build(app, args.entries)
        print(f"built {args.entries:,} entries in {seconds:.0f} s")
    for name, (count, wall, cpu) in measure(app, args.before_entries).items():
        print(
            f"{name:24} {count:>10,} entries  wall {wall:6.2f} s  CPU {cpu:6.2f} s  "
            f"{count / wall:>9,.0f} entries/s (CPU: {count / max(cpu, 1e-9):>9,.0f}/s)"
        )


if __name__ == "__main__":
    main()
