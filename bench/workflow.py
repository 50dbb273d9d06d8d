"""Workflow benchmark: how fast `fire` is with the audit chain, what the state machine itself
costs, and whether memory stays flat over many different requests.

    .venv/bin/python bench/workflow.py                        # SQLite (a temporary file)
    .venv/bin/python bench/workflow.py --database-url postgresql+psycopg://.../hta_bench
    HTA_BENCH_PG_URL=postgresql+psycopg://.../hta_bench .venv/bin/python bench/workflow.py

The PostgreSQL database is emptied (DROP SCHEMA public CASCADE): its name must contain
"bench". Figures:

1. fires per second through `fire` (row lock, savepoint, stage records, audit chain entry)
   with one commit per fire, as a web request would do; latency p50/p95; CPU time of this
   process per fire; and, for scale, raw DB-API transactions of as many statements as a fire
   sends (the ceiling of this database, driver and machine);
2. the pure engine per fire (`WorkflowEngine.apply` on a snapshot, and with the data
   normalisation and validation `fire` runs) against a plain attribute assignment;
3. memory while firing on 10,000 different requests: tracemalloc (current and peak) and RSS,
   sampled every 1,000 fires; flat means no per-request state accumulates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from app import create_app
from app.core.fire import fire, receipt_number
from app.domain.deadlines import DEFAULT_DEADLINES, due_at
from app.extensions import db
from app.models import DeviceRequest, Organisation, StageRecord, User
from app.models.schema_extras import install_schema_extras
from app.workflow.engine import (
    REQUEST_ENGINE,
    Snapshot,
    normalise_transition_data,
    validate_transition_data,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BATCH = 1000
TARGET_FIRES_PER_SECOND = 200  # on PostgreSQL, issue 3


# --- Setup -----------------------------------------------------------------------------------


def database_url(arguments) -> tuple[str, str]:
    url = arguments.database_url or os.environ.get("HTA_BENCH_PG_URL")
    if url:
        name = make_url(url).database or ""
        if "bench" not in name:
            sys.exit(f"refusing to empty database {name!r}: its name must contain 'bench'")
        return url, "PostgreSQL"
    path = Path(tempfile.mkdtemp(prefix="hta-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}", "SQLite"


def reset_schema() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()
    db.create_all()
    install_schema_extras(db.session.connection())
    db.session.commit()


def seed_people() -> int:
    manufacturer = Organisation(name="Bench Devices", kind="manufacturer")
    agency = Organisation(name="Bench Agency", kind="agency")
    db.session.add_all([manufacturer, agency])
    db.session.flush()
    user = User(
        email="agency@bench.example",
        password_hash="-",
        role="agency",
        organisation_id=agency.id,
    )
    db.session.add(user)
    db.session.commit()
    return user.id, manufacturer.id


def seed_submitted_requests(count: int, manufacturer_id: int) -> list[int]:
    """`count` requests already in intake review (inserted directly: the benchmark measures
    the transitions after submission, not the dossier)."""
    due = due_at(DEFAULT_DEADLINES["intake_review"], NOW)
    ids: list[int] = []
    for start in range(0, count, BATCH):
        requests = [
            DeviceRequest(
                manufacturer_id=manufacturer_id,
                state="intake_review",
                trade_name=f"Bench device {start + i}",
                submitted_at=NOW,
            )
            for i in range(min(BATCH, count - start))
        ]
        db.session.add_all(requests)
        db.session.flush()
        for request in requests:
            request.receipt_number = receipt_number(request.id, NOW)
            db.session.add(
                StageRecord(
                    request_id=request.id,
                    state="intake_review",
                    entered_at=NOW,
                    due_at=due,
                )
            )
        ids += [r.id for r in requests]
        db.session.commit()
    db.session.expunge_all()
    return ids


def settle() -> None:
    """VACUUM ANALYZE after the bulk load, so that the measurement starts from a settled
    database (as a live one is) rather than racing autovacuum over the rows just inserted."""
    db.session.commit()
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )
        else:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()


# --- 1. Throughput ------------------------------------------------------------------------------


def fire_once(request_id: int, agency_id: int, moment: datetime) -> None:
    agency = db.session.get(User, agency_id)
    request = db.session.get(DeviceRequest, request_id)
    fire(request, "admit", agency, moment, expected_version=request.version)
    db.session.commit()


def throughput(ids: list[int], agency_id: int, rounds: int = 5) -> dict:
    """Fires per second over all `ids`, and per round of len(ids)/rounds fires: on a shared
    machine the median round is the steadier figure, the best round the least disturbed."""
    latencies, round_rates = [], []
    size = max(1, len(ids) // rounds)
    started, cpu_started = time.perf_counter(), time.process_time()
    for first in range(0, len(ids), size):
        round_started = time.perf_counter()
        for n, request_id in enumerate(ids[first : first + size], start=first):
            begin = time.perf_counter()
            fire_once(request_id, agency_id, NOW + timedelta(seconds=n))
            latencies.append(time.perf_counter() - begin)
        round_rates.append(len(ids[first : first + size]) / (time.perf_counter() - round_started))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    latencies.sort()
    return {
        "fires": len(ids),
        "per_second": len(ids) / elapsed,
        "median_round": statistics.median(round_rates),
        "best_round": max(round_rates),
        "cpu_ms": cpu / len(ids) * 1000,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def round_trip_ms(samples: int = 300) -> float:
    """A `SELECT 1` round trip, for context: the fire rate is bound by database latency."""
    connection = db.session.connection()
    started = time.perf_counter()
    for _ in range(samples):
        connection.execute(text("SELECT 1")).scalar()
    db.session.rollback()
    return (time.perf_counter() - started) / samples * 1000


def driver_ceiling(transactions: int = 300, statements: int = 14) -> dict:
    """Raw DB-API transactions of `statements` one-row statements and a commit (about what one
    fire sends): the ceiling the database and driver allow on this machine, for comparison."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_calibration (id INTEGER PRIMARY KEY, v INTEGER)"
        )
        cursor.execute("DELETE FROM bench_calibration")
        cursor.execute("INSERT INTO bench_calibration VALUES (1, 0)")
        connection.commit()
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(transactions):
            for _ in range(statements):
                cursor.execute("UPDATE bench_calibration SET v = v + 1 WHERE id = 1")
            connection.commit()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        cursor.execute("DROP TABLE bench_calibration")
        connection.commit()
    finally:
        connection.close()
    return {"per_second": transactions / elapsed, "cpu_ms": cpu / transactions * 1000}


# --- 2. Engine overhead ---------------------------------------------------------------------------


def per_call_us(function, repeat: int, rounds: int = 15) -> float:
    """The best of several rounds (the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            function()
        best = min(best, (time.process_time() - started) / repeat)
    return best * 1e6


def engine_overhead(repeat: int = 5_000) -> dict:
    snapshot = Snapshot("intake_review")
    spec = REQUEST_ENGINE.candidates("admit", "intake_review")[0]
    publish = REQUEST_ENGINE.candidates("publish", "consultation")[0]
    publish_data = {"outcome": "recommended", "rationale": "Works."}

    def plain():
        snapshot.state = "intake_review"
        snapshot.state = "awaiting_prioritisation"

    def engine():
        snapshot.state = "intake_review"
        REQUEST_ENGINE.apply(snapshot, "admit", {})

    def engine_with_checks():
        snapshot.state = "intake_review"
        data = normalise_transition_data(spec, {})
        validate_transition_data(spec, "", data)
        REQUEST_ENGINE.apply(snapshot, "admit", data)

    def publish_with_checks():
        snapshot.state = "consultation"
        data = normalise_transition_data(publish, publish_data)
        validate_transition_data(publish, "", data)
        REQUEST_ENGINE.apply(snapshot, "publish", data)

    plain_us = per_call_us(plain, repeat)
    return {
        "plain_us": plain_us,
        "engine_us": per_call_us(engine, repeat) - plain_us,
        "checks_us": per_call_us(engine_with_checks, repeat) - plain_us,
        "publish_us": per_call_us(publish_with_checks, repeat) - plain_us,
    }


# --- 3. Memory ------------------------------------------------------------------------------------


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(ids: list[int], agency_id: int) -> list[tuple[int, float, float, float]]:
    """(fires so far, tracemalloc current KiB, tracemalloc peak KiB, RSS MiB) per 1,000."""
    samples = []
    tracemalloc.start()
    for n, request_id in enumerate(ids, start=1):
        fire_once(request_id, agency_id, NOW + timedelta(seconds=n))
        if n % BATCH == 0:
            current, peak = tracemalloc.get_traced_memory()
            samples.append((n, current / 1024, peak / 1024, rss_mib()))
    tracemalloc.stop()
    return samples


# --- Report ---------------------------------------------------------------------------------------


def report(kind, load, rtt, speed, ceiling, engine, samples) -> None:
    print(f"\nWorkflow benchmark on {kind} (load average {load:.2f}, SELECT 1 {rtt:.2f} ms)")
    print("-" * 72)
    print(f"{'fire + audit chain, commit per fire':44} {speed['per_second']:10.0f} fires/s")
    rounds = f"{speed['median_round']:.0f} / {speed['best_round']:.0f}"
    print(f"{'  rounds of the same: median / best':44} {rounds:>10} fires/s")
    print(f"{'  latency p50 / p95':44} {speed['p50_ms']:7.2f} / {speed['p95_ms']:.2f} ms")
    print(f"{'  CPU of this process per fire':44} {speed['cpu_ms']:10.2f} ms")
    print(f"{'  fires measured':44} {speed['fires']:10d}")
    print(f"{'raw driver: 14 statements + commit':44} {ceiling['per_second']:10.0f} tx/s")
    print(f"{'  CPU of this process per transaction':44} {ceiling['cpu_ms']:10.2f} ms")
    print(f"{'plain attribute assignment':44} {engine['plain_us']:10.2f} µs")
    print(f"{'engine.apply, overhead per fire':44} {engine['engine_us']:10.2f} µs")
    print(f"{'  apply + data normalisation + validation':44} {engine['checks_us']:10.2f} µs")
    print(f"{'  same for publish (condition on outcome)':44} {engine['publish_us']:10.2f} µs")
    if samples:
        print(f"{'memory while firing on N requests':44} {'traced':>10} {'peak':>9} {'RSS':>8}")
        for n, current, peak, rss in samples:
            print(
                f"{'  after ' + format(n, ','):44} {current:8.0f}KiB {peak:7.0f}KiB {rss:6.1f}MiB"
            )
        growth = samples[-1][1] - samples[0][1]
        print(f"{'  traced growth first -> last sample':44} {growth:8.0f} KiB")
    verdict = "met" if speed["median_round"] >= TARGET_FIRES_PER_SECOND else "NOT met"
    print(f"target >= {TARGET_FIRES_PER_SECOND} fires/s (median round): {verdict}")
    print("-" * 72)


def _no_commit_wait(dbapi_connection, _record) -> None:
    dbapi_connection.execute("SET synchronous_commit = off")
    dbapi_connection.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (database name with 'bench')")
    parser.add_argument("--fires", type=int, default=2000, help="fires for the throughput")
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument(
        "--no-commit-wait",
        action="store_true",
        help="PostgreSQL: synchronous_commit=off, to separate the disk's fsync from the code "
        "(never in production)",
    )
    arguments = parser.parse_args()
    url, kind = database_url(arguments)
    instance = tempfile.mkdtemp(prefix="hta-bench-instance-")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance})
    with app.app_context():
        if arguments.no_commit_wait and db.engine.dialect.name == "postgresql":
            event.listen(db.engine, "connect", _no_commit_wait)
            db.engine.dispose()
            kind += ", synchronous_commit=off"
        reset_schema()
        agency_id, manufacturer_id = seed_people()
        fire_ids = seed_submitted_requests(arguments.fires, manufacturer_id)
        memory_ids = seed_submitted_requests(arguments.memory_requests, manufacturer_id)
        settle()
        rtt = round_trip_ms()
        fire_once(fire_ids[0], agency_id, NOW)  # warm up the caches
        speed = throughput(fire_ids[1:], agency_id)
        ceiling = driver_ceiling()
        engine = engine_overhead()
        samples = memory(memory_ids, agency_id) if memory_ids else []
        report(kind, os.getloadavg()[0], rtt, speed, ceiling, engine, samples)
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
