"""Benchmark of the reports: time and memory per report and format, at 1k, 10k and 100k requests.

    .venv/bin/python bench/reports.py                      # SQLite, 1k and 10k requests
    .venv/bin/python bench/reports.py --sizes 1000,10000,100000
    .venv/bin/python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_reports_bench
    .venv/bin/python bench/reports.py --sizes 10000,100000 --reuse --jobs page:timing \
        --database-url 'postgresql+psycopg://postgres@127.0.0.1:5432/reports_bench_{size}'

For each size it generates synthetic data (about 12 stage records per request, adoption records
and quarterly usage, see bench/synthetic.py) with bulk inserts into a temporary SQLite file (or
the PostgreSQL database given, whose schema it drops and recreates: use a database of its own;
`{size}` in its URL gives each size its own database, so that --reuse keeps them all),
then runs every measurement in a fresh subprocess so that the peak RSS (ru_maxrss) growth is that
run's alone:

- figures: computing the report model's aggregates (timing with every breakdown; adoption);
- pdf / xlsx / csv: writing each format (rows streamed from the database as they are written);
- page: GET /reports/timing and /reports/adoption through the test client, cold (no cache) and
  warm (the figure cache), with the number of SQL statements; page:timing-by-region and
  page:timing-by-body: the timing page with that breakdown picked;
- baseline: a bare openpyxl write-only loop writing as many rows and columns as the timing XLSX,
  to compare rows per second.

It prints one line per measurement and checks the targets: XLSX at least 0.6 of the baseline's
rows per second, peak memory growth at most 50 MB from 10k to 100k requests, PDF time at 100k
within 10x of 10k, and the timing page at 100k under 2 s with the same number of statements at
every size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)  # the synthetic data's "now"
JOBS = (
    "timing:figures",
    "timing:pdf",
    "timing:xlsx",
    "timing:csv",
    "adoption:figures",
    "adoption:pdf",
    "adoption:xlsx",
    "adoption:csv",
    "page:timing",
    "page:timing-by-region",
    "page:timing-by-body",
    "page:adoption",
    "baseline:xlsx",
    "baseline:adoption-xlsx",
)
# Each bare openpyxl baseline and the export whose shape (rows, cells per row) it copies.
BASELINES = {"baseline:xlsx": "timing:xlsx", "baseline:adoption-xlsx": "adoption:xlsx"}


# --- Workers (run in a subprocess) ----------------------------------------------------------


def _app(url: str, instance: str):
    from app import create_app

    return create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance, "REPORT_CACHE_SECONDS": 0},
    )


def worker_generate(url: str, size: int, instance: str) -> dict:
    from sqlalchemy import text

    from app.extensions import db
    from bench.synthetic import generate

    app = _app(url, instance)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
        else:
            db.drop_all()
        db.create_all()
        started = time.perf_counter()
        with db.engine.begin() as connection:
            counts = generate(connection, size, now=NOW)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE")
                )
        else:
            with db.engine.begin() as connection:  # committed: the planner's statistics
                connection.exec_driver_sql("ANALYZE")
        counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def worker_count(url: str, instance: str) -> dict:
    from sqlalchemy import func, inspect, select

    from app.extensions import db
    from app.models import DeviceRequest

    app = _app(url, instance)
    with app.app_context():
        if not inspect(db.engine).has_table("device_requests"):
            return {"requests": 0}
        return {"requests": db.session.scalar(select(func.count()).select_from(DeviceRequest))}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(kind: str, dimensions=None):
    from app.reports.filters import DIMENSIONS, ReportFilters
    from app.reports_pages.build import build_adoption_report, build_timing_report

    if kind == "timing":
        return build_timing_report(
            None, ReportFilters(), NOW, dimensions=dimensions or DIMENSIONS, generated_by="bench"
        )
    return build_adoption_report(None, ReportFilters(), NOW, generated_by="bench")


def _write(report, fmt: str, out: Path) -> int:
    from app.reports.csv import iter_csv
    from app.reports.pdf import render_pdf
    from app.reports.xlsx import write_xlsx

    if fmt == "xlsx":
        return write_xlsx(report, out)
    if fmt == "pdf":
        out.write_bytes(render_pdf(report))
        return 0
    lines = 0
    with open(out, "wb") as handle:
        for chunk in iter_csv(report):
            handle.write(chunk)
            lines += chunk.count(b"\n")
    return lines


def worker_measure(url: str, job: str, instance: str, trace: bool) -> dict:
    from flask_babel import force_locale

    kind, what = job.split(":")
    app = _app(url, instance)
    out = Path(instance) / f"out-{kind}.{what}"
    with app.app_context(), force_locale("en"):
        if kind == "page":
            return _measure_page(app, what)
        if kind == "baseline":
            return _measure_baseline(
                int(os.environ["BENCH_ROWS"]), int(os.environ["BENCH_COLS"]), out
            )
        _warm_up()
        rss_before = _rss_mb()
        if trace:
            tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        report = _build(kind)
        figures_seconds = time.perf_counter() - started
        rows = 0
        write_seconds = write_cpu = 0.0
        if what != "figures":
            written, cpu_written = time.perf_counter(), time.process_time()
            rows = _write(report, what, out)
            write_seconds = time.perf_counter() - written
            write_cpu = time.process_time() - cpu_written
        result = {
            "figures_s": round(figures_seconds, 2),
            "write_s": round(write_seconds, 2),
            "total_s": round(figures_seconds + write_seconds, 2),
            "write_cpu_s": round(write_cpu, 2),
            "total_cpu_s": round(time.process_time() - cpu, 2),
            "rows": rows,
            "rss_growth_mb": round(_rss_mb() - rss_before, 1),
            "bytes": out.stat().st_size if out.exists() else 0,
        }
        if trace:
            result["traced_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            tracemalloc.stop()
        if what == "xlsx":
            result["columns"] = _widest_table(report)
            result["cells"] = _cells(report)  # after the timing: it reads the rows again
        return result


def _warm_up() -> None:
    """Import and initialise everything a report touches, so RSS growth is the report's."""
    from sqlalchemy import select

    from app.extensions import db
    from app.reports.csv import render_csv
    from app.reports.pdf import render_pdf
    from app.reports.xlsx import render_xlsx

    db.session.execute(select(1))
    sample = _sample_report()
    render_pdf(sample)
    render_xlsx(sample)
    render_csv(sample)


def _sample_report():
    from app.reports.model import DAYS, INTEGER, BarChart, Column, Report, Section, Table

    table = Table(
        "t",
        "Sample",
        [Column("a", "A"), Column("n", "N", INTEGER), Column("d", "D", DAYS)],
        [["x", 1, 1.5]] * 5,
    )
    chart = BarChart("c", "Chart", ["a", "b"], [("s", [1.0, 2.0])], markers=[1.0, 1.0])
    return Report("sample", "Sample", NOW, "bench", sections=[Section("S", [chart, table])])


def _cells(report) -> int:
    """Data cells the workbook's tables hold (rows x their columns), empty ones included."""
    return sum(len(t.columns) * sum(1 for _ in t.iter_rows()) for t in report.tables())


def _widest_table(report) -> int:
    return max((len(t.columns) for t in report.tables()), default=0)


def _measure_page(app, kind: str) -> dict:
    """GET the report page cold and warm; "timing-by-region": the timing page broken down by
    region (?by=region), as when a reader picks a breakdown."""
    from sqlalchemy import event, select

    from app.extensions import db
    from app.models import User
    from app.reports_pages.queries import clear_cache

    user = db.session.scalars(select(User).where(User.role == "agency")).first()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["lang"] = "en"
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    app.config["REPORT_CACHE_SECONDS"] = 300
    clear_cache()
    timings = {}
    for run in ("cold", "warm"):
        db.session.commit()
        statements.clear()
        started = time.perf_counter()
        report, _, dimension = kind.partition("-by-")
        response = client.get(f"/reports/{report}" + (f"?by={dimension}" if dimension else ""))
        timings[f"{run}_s"] = round(time.perf_counter() - started, 2)
        timings[f"{run}_statements"] = len(statements)
        assert response.status_code == 200, response.status_code
    return timings


def _measure_baseline(rows: int, columns: int, out: Path) -> dict:
    """A bare openpyxl write-only loop: plain values, no styles, no conversion."""
    from openpyxl import Workbook

    row = [
        (1234, 56.7, "Device 1234 M12", datetime(2024, 5, 6, 7, 8), "lombardia")[i % 5]
        for i in range(columns)
    ]
    rss_before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Baseline")
    for _ in range(rows):
        sheet.append(row)
    workbook.save(out)
    seconds = time.perf_counter() - started
    return {
        "write_s": round(seconds, 2),
        "write_cpu_s": round(time.process_time() - cpu, 2),
        "rows": rows,
        "columns": columns,
        "rss_growth_mb": round(_rss_mb() - rss_before, 1),
    }


# --- The driver -------------------------------------------------------------------------------


def _subprocess(args: list[str], env: dict | None = None) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}"},
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _database(base_url: str | None, size: int, folder: Path) -> str:
    if base_url:
        return base_url.replace("{size}", str(size))
    return f"sqlite:///{folder / f'bench-{size}.sqlite3'}"


def run_size(
    size: int, base_url: str | None, folder: Path, trace: bool, reuse: bool, jobs=JOBS
) -> dict:
    url = _database(base_url, size, folder)
    instance = str(folder / f"instance-{size}")
    results = {}
    if base_url:
        exists = (
            reuse
            and _subprocess(["--worker", "count", "--url", url, "--instance", instance])["requests"]
            == size
        )
    else:
        exists = (folder / f"bench-{size}.sqlite3").exists()
    if reuse and exists:
        print(f"[{size:>7}] reusing {url}", flush=True)
    else:
        generated = _subprocess(
            ["--worker", "generate", "--url", url, "--size", str(size), "--instance", instance]
        )
        print(f"[{size:>7}] generated {generated}", flush=True)
        results["generate"] = generated
    for job in jobs:
        env = None
        if job in BASELINES:
            if BASELINES[job] not in results:
                continue
            xlsx = results[BASELINES[job]]
            # The timing baseline keeps its historical shape (rows x widest table); the
            # adoption workbook's tables differ in width, so its baseline writes as many rows
            # with the average cells per row.
            columns = (
                xlsx["columns"]
                if job == "baseline:xlsx"
                else max(round(xlsx["cells"] / max(xlsx["rows"], 1)), 1)
            )
            env = {"BENCH_ROWS": str(xlsx["rows"]), "BENCH_COLS": str(columns)}
        args = ["--worker", "measure", "--url", url, "--job", job, "--instance", instance]
        results[job] = _subprocess(args + (["--trace"] if trace else []), env)
        print(f"[{size:>7}] {job:<17} {results[job]}", flush=True)
    return results


def _adoption_ratio_lines(all_results: dict[int, dict]) -> list[str]:
    """The adoption XLSX against its own bare openpyxl baseline, beside the timing one."""
    lines = []
    for size, results in sorted(all_results.items()):
        for export, baseline in (
            ("timing:xlsx", "baseline:xlsx"),
            ("adoption:xlsx", "baseline:adoption-xlsx"),
        ):
            if export not in results or baseline not in results:
                continue
            ours, bare = results[export], results[baseline]
            if ours.get("write_cpu_s") and bare.get("write_cpu_s"):
                lines.append(
                    f"{size:>7} requests: {export} {ours['rows']:,} rows in "
                    f"{ours['write_cpu_s']} CPU s, bare openpyxl same shape "
                    f"{bare['write_cpu_s']} CPU s: "
                    f"ratio {bare['write_cpu_s'] / ours['write_cpu_s']:.2f}"
                )
    return lines


def check_targets(all_results: dict[int, dict]) -> list[str]:
    ratios = _adoption_ratio_lines(all_results)
    needed = ("timing:xlsx", "baseline:xlsx", "page:timing", "timing:pdf", "timing:csv")
    if any(job not in r for r in all_results.values() for job in needed):
        return [*ratios, "(some measurements were not run: no target check)"]
    lines = list(ratios)
    for size, results in sorted(all_results.items()):
        xlsx, baseline = results["timing:xlsx"], results["baseline:xlsx"]
        ours = xlsx["rows"] / xlsx["write_s"] if xlsx["write_s"] else 0
        bare = baseline["rows"] / baseline["write_s"] if baseline["write_s"] else 0
        ratio = ours / bare if bare else 0
        lines.append(
            f"{size:>7} requests: timing XLSX {ours:,.0f} rows/s vs bare openpyxl {bare:,.0f} "
            f"rows/s = {ratio:.2f} wall clock "
            f"(target >= 0.60: {'OK' if ratio >= 0.6 else 'MISSED'})"
        )
        if xlsx.get("write_cpu_s") and baseline.get("write_cpu_s"):
            cpu_ratio = baseline["write_cpu_s"] / xlsx["write_cpu_s"]
            lines.append(
                f"{size:>7} requests: the same in CPU seconds (steadier on a busy machine; on "
                f"SQLite it includes the queries): {cpu_ratio:.2f} "
                f"({'OK' if cpu_ratio >= 0.6 else 'MISSED'})"
            )
        page = results["page:timing"]
        lines.append(
            f"{size:>7} requests: timing page cold {page['cold_s']} s ({page['cold_statements']} "
            f"statements), warm {page['warm_s']} s ({page['warm_statements']} statements)"
        )
    sizes = sorted(all_results)
    if 10_000 in all_results and 100_000 in all_results:
        small, large = all_results[10_000], all_results[100_000]
        for job in (
            "timing:xlsx",
            "timing:csv",
            "timing:pdf",
            "adoption:xlsx",
            "adoption:csv",
            "adoption:pdf",
        ):
            if job not in small or job not in large:
                continue
            growth = large[job]["rss_growth_mb"] - small[job]["rss_growth_mb"]
            lines.append(
                f"memory {job:<14} RSS growth {small[job]['rss_growth_mb']} MB at 10k, "
                f"{large[job]['rss_growth_mb']} MB at 100k: +{growth:.1f} MB "
                f"(target <= 50: {'OK' if growth <= 50 else 'MISSED'})"
            )
        for job in ("timing:pdf", "adoption:pdf"):
            if job not in small or job not in large:
                continue
            factor = large[job]["total_s"] / max(small[job]["total_s"], 0.01)
            lines.append(
                f"{job} time {small[job]['total_s']} s at 10k, {large[job]['total_s']} s at 100k: "
                f"x{factor:.1f} (target <= 10: {'OK' if factor <= 10 else 'MISSED'})"
            )
        page = large["page:timing"]
        lines.append(
            f"timing page at 100k: cold {page['cold_s']} s, warm {page['warm_s']} s "
            f"(target < 2 s: cold {'OK' if page['cold_s'] < 2 else 'MISSED'}, "
            f"warm {'OK' if page['warm_s'] < 2 else 'MISSED'})"
        )
    counts = {size: all_results[size]["page:timing"]["cold_statements"] for size in sizes}
    lines.append(
        f"timing page statements by size {counts}: "
        f"{'constant' if len(set(counts.values())) == 1 else 'NOT constant'}"
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--database-url", help="PostgreSQL URL (a database of its own)")
    parser.add_argument("--folder", help="Keep the SQLite files here (default: a temp dir)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Reuse the data already there (SQLite files in --folder; a PostgreSQL database "
        "holding exactly the size asked for)",
    )
    parser.add_argument("--trace", action="store_true", help="Also record tracemalloc peaks")
    parser.add_argument(
        "--jobs", default=",".join(JOBS), help=f"Comma-separated subset of {', '.join(JOBS)}"
    )
    parser.add_argument(
        "--worker", choices=["generate", "measure", "count"], help=argparse.SUPPRESS
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "generate":
        print(json.dumps(worker_generate(args.url, args.size, args.instance)))
        return
    if args.worker == "count":
        print(json.dumps(worker_count(args.url, args.instance)))
        return
    if args.worker == "measure":
        print(json.dumps(worker_measure(args.url, args.job, args.instance, args.trace)))
        return
    folder = Path(args.folder or tempfile.mkdtemp(prefix="hta-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"HTA Tracker report benchmark, {date.today()}, {os.cpu_count()} CPUs, "
        f"database: {args.database_url or 'SQLite files in ' + str(folder)}",
        flush=True,
    )
    jobs = tuple(job for job in args.jobs.split(",") if job in JOBS)
    all_results = {
        size: run_size(size, args.database_url, folder, args.trace, args.reuse, jobs)
        for size in sizes
    }
    print("\nTargets:")
    for line in check_targets(all_results):
        print("  " + line)
    (folder / "results.json").write_text(json.dumps(all_results, indent=2))
    print(f"\nRaw figures: {folder / 'results.json'}")


if __name__ == "__main__":
    main()
