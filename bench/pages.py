"""Page-load benchmark: the pages people open all day, served by gunicorn as in production, with
their throughput as a share of two baseline endpoints measured in the same run.

    .venv/bin/python bench/pages.py                          # demo data and 10k requests
    .venv/bin/python bench/pages.py --sizes demo,100000 --reuse --label after
    make bench-pages                                         # the same as the first line

For each size it builds (or, with --reuse, keeps) a PostgreSQL database of its own
(`--database-url`, `{size}` replaced by the size): `flask db upgrade`, then the demo data
(`flask seed-demo`) or bench/synthetic.py's requests with their stage histories, adoptions and
usage; a reused database is upgraded too, so new migrations (indexes) apply to it. It adds one
bench user per role (second factor with a key derived from the email, as the demo's) and an API
token, then starts gunicorn with gunicorn.conf.py (2 workers, HTA_ENV=production) and the two
baseline endpoints of app/ops/bench.py switched on, and logs in through the pages as each role.

Each page is loaded by wrk (apt package `wrk`; without it, a Python load generator with
keep-alive threads) for --seconds with --connections, right after the bare and the one-query
endpoints, so each ratio compares neighbours in time on a machine shared with others. Per page:
requests/s, p50/p99 latency, the app's CPU per request (the workers' CPU time over the run,
from /proc), the database time and statements per request (the mean over the run of the JSON
request log's `sql_ms` and `sql_statements`: as the worker saw it, waits for a CPU on a busy
machine included), PostgreSQL's own execution time of one view's statements (EXPLAIN ANALYZE,
in a test client after the load; `--plans-only` measures just that, without gunicorn), and the
ratio to each baseline. The table is printed and appended, under --label and the size, to
bench/PAGES_RESULTS.md.

Targets (issue 17), checked and printed: list-like pages (home, work queue, lists, register, API
list) at >= 25% of the one-query endpoint and <= 10 ms database time (PostgreSQL's execution
time); the request page >= 15%; the report pages >= 5% with p99 under 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "PAGES_RESULTS.md"
NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)  # the synthetic data's "now"
BENCH_PASSWORD = "bench-pages-Passw0rd-2026"  # a local benchmark's users
ROLES = ("agency", "assessor", "irccs", "manufacturer")
LIST_PAGES = {"home", "work queue", "requests list", "register list", "API list", "mfr list"}
LIST_PAGES |= {"assessor home", "irccs home"}
REPORT_PAGES = {"timing report", "adoption report"}


@dataclass(frozen=True)
class Page:
    name: str
    role: str | None  # None: anonymous; "api": the agency's bearer token
    path: str


# --- The database ---------------------------------------------------------------------------


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _admin(url: str) -> str:
    return libpq(url).rpartition("/")[0] + "/postgres"


def _database_exists(url: str) -> bool:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()


def _has_requests(url: str) -> bool:
    import psycopg

    with psycopg.connect(libpq(url)) as conn:
        found = conn.execute("SELECT to_regclass('device_requests')").fetchone()[0]
        return bool(found) and conn.execute("SELECT count(*) FROM device_requests").fetchone()[0]


def _recreate(url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _flask(env: dict, *args: str, timeout: float = 3600) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def build(size: str, url: str, env: dict, reuse: bool) -> None:
    """The database at `size`, built unless --reuse finds it filled; always upgraded."""
    started = time.perf_counter()
    fresh = not (reuse and _database_exists(url) and _has_requests(url))
    if fresh:
        _recreate(url)
    _flask(env, "db", "upgrade")
    if fresh:
        if size == "demo":
            _flask(env, "seed-demo")
        else:
            _generate(url, int(size))
        print(f"  built {size} in {time.perf_counter() - started:.0f} s", flush=True)
    _analyze(url)


def _generate(url: str, size: int) -> None:
    from app import create_app
    from app.extensions import db
    from bench.synthetic import generate

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), db.engine.begin() as connection:
        generate(connection, size, now=NOW)
        _after_generate(connection)


def _after_generate(connection) -> None:
    """Move the sequences past the ids synthetic.py wrote (the app inserts after it)."""
    from sqlalchemy import text

    rows = connection.execute(
        text(
            "SELECT s.relname, t.relname, a.attname FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
            "WHERE s.relkind = 'S'"
        )
    ).all()
    for sequence, table, column in rows:
        connection.execute(
            text(
                f"SELECT setval('{sequence}', COALESCE((SELECT max({column}) FROM {table}), 0) + 1,"
                " false)"
            )
        )


def _analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def prepare(url: str) -> dict:
    """Bench users (one per role) and an API token; the request with the longest history and
    the pages' paths. Idempotent: users are reused, the bench token replaced."""
    from sqlalchemy import delete, func, select

    from app import create_app
    from app.accounts import api_tokens
    from app.accounts.passwords import hash_password
    from app.demo.data import demo_totp_secret
    from app.extensions import db
    from app.models import ApiToken, DeviceRequest, Organisation, User

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        kinds = {"agency": "agency", "assessor": "regional_body", "irccs": "irccs"}
        users = {}
        for role in ROLES:
            email = f"bench-{role}@bench.example"
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                if role == "manufacturer":  # the manufacturer with the most requests
                    org_id = db.session.scalar(
                        select(DeviceRequest.manufacturer_id)
                        .group_by(DeviceRequest.manufacturer_id)
                        .order_by(func.count().desc())
                        .limit(1)
                    )
                else:
                    org_id = db.session.scalar(
                        select(Organisation.id)
                        .where(Organisation.kind == kinds[role])
                        .order_by(Organisation.id)
                        .limit(1)
                    )
                user = User(
                    email=email,
                    full_name=f"Bench {role}",
                    password_hash=hash_password(BENCH_PASSWORD),
                    role=role,
                    organisation_id=org_id,
                    language="en",
                )
                if role in app.config["SECOND_FACTOR_REQUIRED_ROLES"]:
                    user.totp_secret = demo_totp_secret(email)
                    user.totp_enabled_at = datetime.now(UTC)
                db.session.add(user)
                db.session.flush()
            users[role] = {
                "email": email,
                "totp": user.totp_secret,
            }
        agency = db.session.scalar(select(User).where(User.email == "bench-agency@bench.example"))
        db.session.execute(delete(ApiToken).where(ApiToken.user_id == agency.id))
        _token, plain = api_tokens.issue_token(agency, "bench", None, datetime.now(UTC))
        longest = _longest_history()
        db.session.commit()
    return {"users": users, "token": plain, "long_request": longest}


def _longest_history() -> int:
    """The request with the most audit entries (the demo's), else the most stage visits."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditEntry, StageRecord

    audited = db.session.execute(
        select(AuditEntry.request_id, func.count())
        .where(AuditEntry.request_id.is_not(None))
        .group_by(AuditEntry.request_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    if audited:
        return audited[0]
    return db.session.execute(
        select(StageRecord.request_id, func.count())
        .group_by(StageRecord.request_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()[0]


def pages(long_request: int) -> list[Page]:
    return [
        Page("home", "agency", "/"),
        Page("work queue", "agency", "/work/"),
        Page("requests list", "agency", "/requests/"),
        Page("request page", "agency", f"/requests/{long_request}"),
        Page("timing report", "agency", "/reports/timing"),
        Page("adoption report", "agency", "/reports/adoption"),
        Page("register list", None, "/register/"),
        Page("mfr list", "manufacturer", "/requests/"),
        Page("assessor home", "assessor", "/"),
        Page("irccs home", "irccs", "/"),
        Page("API list", "api", "/api/v1/requests"),
    ]


# --- The server -----------------------------------------------------------------------------


class Server:
    """gunicorn with gunicorn.conf.py and 2 workers; its stderr (the JSON request log) to a
    file the benchmark reads."""

    def __init__(self, url: str, port: int, extra_env: dict):
        self.tmp = Path(tempfile.mkdtemp(prefix="hta-bench-pages-"))
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = self.tmp / "gunicorn.log"
        self.env = os.environ.copy() | {
            "FLASK_APP": "wsgi",
            "HTA_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": url,
            "HTA_INSTANCE_DIR": str(self.tmp / "instance"),
            "HTA_INSECURE_COOKIES": "1",
            "HTA_BENCH_ENDPOINTS": "1",
            "API_RATE_LIMIT": "10000000/minute",
            "LOGIN_LIMIT_PER_ADDRESS": "100000/minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000/minute",
            "SECOND_FACTOR_LIMIT": "100000/minute",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_MAX_REQUESTS": "0",  # no recycling in the middle of a measurement
            "PROMETHEUS_MULTIPROC_DIR": str(self.tmp / "prometheus"),
            "LOG_LEVEL": "INFO",
        }
        self.env.pop("TEST_DATABASE_URL", None)
        self.env |= extra_env
        self.process = None

    def __enter__(self) -> Server:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "--no-control-socket",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log_path.read_text()[-3000:])
            try:
                status, _ = http_get(self.base + "/readyz")
                if status == 200 and len(self.worker_pids()) == 2:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not get ready:\n" + self.log_path.read_text()[-3000:])

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def worker_cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def log_offset(self) -> int:
        return self.log_path.stat().st_size

    def log_lines(self, offset: int, path: str) -> list[dict]:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            lines = []
            for raw in log:
                if not raw.startswith(b"{"):
                    continue
                line = json.loads(raw)
                if line.get("logger") == "hta.request" and line.get("path") == urlsplit(path).path:
                    lines.append(line)
        return lines


def http_get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {}
        )
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def login_headers(base: str, info: dict) -> dict[str, dict]:
    """Request headers per role: a logged-in session's cookies (second factor passed), the
    API token, nothing for anonymous visitors."""
    from tests.slow.clients import Web

    headers = {None: {"Accept-Language": "en"}}
    headers["api"] = {"Accept-Language": "en", "Authorization": f"Bearer {info['token']}"}
    for role, user in info["users"].items():
        web = Web(base).login(user["email"], BENCH_PASSWORD, user["totp"])
        cookie = "; ".join(f"{c.name}={c.value}" for c in web.http.cookies)
        headers[role] = {"Accept-Language": "en", "Cookie": cookie}
    return headers


# --- Load -----------------------------------------------------------------------------------

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "status": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def load(url: str, headers: dict, seconds: float, connections: int) -> dict:
    """Requests/s, p50 and p99 (ms) and failures of `connections` keep-alive clients."""
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, connections)
    return _threads(url, headers, seconds, connections)


def _wrk(url, headers, seconds, connections) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    args = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{int(seconds)}s",
        "--timeout",
        "30s",
        "-s",
        script.name,
    ]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=True)
    os.unlink(script.name)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    duration = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "rps": figures["requests"] / duration,
        "p50": figures["p50_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
        "failed": figures["errors"] + figures["status"],
    }


def _threads(url, headers, seconds, connections) -> dict:
    parts = urlsplit(url)
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", parts.path, headers=headers)
            answer = conn.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status >= 400:
                failed[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "failed": failed[0],
    }


def measure(server: Server, path: str, headers: dict, seconds: float, connections: int) -> dict:
    """One load run of `path`, with the workers' CPU and the request log's figures over it."""
    offset, cpu = server.log_offset(), server.worker_cpu_seconds()
    figures = load(server.base + path, headers, seconds, connections)
    time.sleep(0.2)  # the last log lines
    figures["cpu_ms"] = (server.worker_cpu_seconds() - cpu) * 1000 / max(figures["requests"], 1)
    lines = server.log_lines(offset, path)
    figures["sql_ms"] = statistics.fmean(x["sql_ms"] for x in lines) if lines else 0.0
    figures["statements"] = statistics.fmean(x["sql_statements"] for x in lines) if lines else 0
    figures["app_ms"] = statistics.fmean(x["cpu_ms"] for x in lines) if lines else 0.0
    return figures


def run_size(size: str, url: str, args) -> list[dict]:
    env = os.environ.copy() | {"DATABASE_URL": url, "FLASK_APP": "wsgi", "HTA_ENV": "development"}
    env.pop("TEST_DATABASE_URL", None)
    print(f"== {size}: {url}", flush=True)
    build(size, url, env, args.reuse)
    info = prepare(url)
    extra = dict(item.split("=", 1) for item in args.env)
    rows = []
    with Server(url, args.port, extra) as server:
        headers = login_headers(server.base, info)
        chosen = [p for p in pages(info["long_request"]) if not args.pages or p.name in args.pages]
        for page in chosen:
            status, body = http_get(server.base + page.path, headers[page.role])
            if status != 200:
                raise RuntimeError(f"{page.name} {page.path}: {status} {body[:300]!r}")
            for _ in range(args.warmup):
                http_get(server.base + page.path, headers[page.role])
        http_get(server.base + "/_bench/one-query")
        for page in chosen:
            bare = measure(server, "/_bench/bare", {}, args.seconds, args.connections)
            one = measure(server, "/_bench/one-query", {}, args.seconds, args.connections)
            figures = measure(server, page.path, headers[page.role], args.seconds, args.connections)
            figures |= {
                "page": page.name,
                "bare_rps": bare["rps"],
                "one_rps": one["rps"],
                "bare_cpu": bare["cpu_ms"],
                "one_cpu": one["cpu_ms"],
            }
            rows.append(figures)
            print(_line(figures), flush=True)
    plans = plan_times(url, info, chosen)
    for row in rows:
        row["plan_ms"] = plans.get(row["page"], 0.0)
    print("  PostgreSQL execution per page (EXPLAIN ANALYZE, ms):", flush=True)
    print("  " + ", ".join(f"{name} {ms:.1f}" for name, ms in plans.items()), flush=True)
    return rows


def run_plans_only(size: str, url: str, args) -> None:
    """--plans-only: the server-side database time per page, without load (no gunicorn)."""
    print(f"== {size}: {url} (plans only)", flush=True)
    info = prepare(url)
    chosen = [p for p in pages(info["long_request"]) if not args.pages or p.name in args.pages]
    plans = plan_times(url, info, chosen)
    for name, ms in plans.items():
        print(f"  {name:<16} {ms:8.1f} ms", flush=True)
    if not args.no_write:
        lines = [
            f"### {args.label}: {size}, PostgreSQL execution per page "
            f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            "EXPLAIN ANALYZE of each statement of one (second) view, summed, no load.",
            "",
            "| page | DB execution ms |",
            "|---|---|",
            *[f"| {name} | {ms:.1f} |" for name, ms in plans.items()],
        ]
        with RESULTS.open("a") as results:
            results.write("\n".join(lines) + "\n\n")


# --- Database time on the server ------------------------------------------------------------


def plan_times(url: str, info: dict, chosen: list[Page]) -> dict[str, float]:
    """Per page: PostgreSQL's own execution time of the statements one view runs (EXPLAIN
    ANALYZE of each, summed), with the page loaded twice first in a test client on the same
    database (the second view's statements, figure cache warm as under load). Unlike the
    request log's database time, it leaves out waiting for a CPU on a shared machine."""
    from datetime import UTC, datetime

    from sqlalchemy import event, select

    from app import create_app
    from app.accounts import second_factor
    from app.extensions import db
    from app.models import User

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    captured: list = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    times = {}
    with app.app_context():
        clients = {None: app.test_client(), "api": app.test_client()}
        for role, user in info["users"].items():
            clients[role] = _test_login(
                app, db, select, User, second_factor, user, datetime.now(UTC)
            )
        event.listen(db.engine, "before_cursor_execute", grab)
        for page in chosen:
            headers = {"Accept-Language": "en"}
            if page.role == "api":
                headers["Authorization"] = f"Bearer {info['token']}"
            clients[page.role].get(page.path, headers=headers)
            captured.clear()
            clients[page.role].get(page.path, headers=headers)
            statements = [
                item for item in captured if item[0].lstrip().upper().startswith(("SELECT", "WITH"))
            ]
            times[page.name] = _explain_total(db, statements)
        event.remove(db.engine, "before_cursor_execute", grab)
    return times


def _test_login(app, db, select, user_model, second_factor, user: dict, now):
    """A test client logged in as `user` through the login form, its browser remembered (no
    code: the live server's logins used this time step's code already)."""
    client = app.test_client()
    person = db.session.scalar(select(user_model).where(user_model.email == user["email"]))
    if person.totp_secret:
        token = second_factor.remembered_device_token(person, now)
        client.set_cookie(second_factor.REMEMBERED_DEVICE_COOKIE, token, path="/auth")
    db.session.commit()
    answer = client.post("/auth/login", data={"email": user["email"], "password": BENCH_PASSWORD})
    if answer.status_code not in (302, 303) or "two-factor" in answer.headers.get("Location", ""):
        raise RuntimeError(f"test login of {user['email']} failed: {answer.status_code}")
    return client


def _explain_total(db, statements) -> float:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        total = 0.0
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) " + statement, parameters)
            for (line,) in cursor.fetchall():
                if line.startswith("Execution Time:"):
                    total += float(line.split()[2])
        raw.rollback()
        return total
    finally:
        raw.close()


# --- Output ---------------------------------------------------------------------------------

HEADER = (
    "| page | req/s | p50 ms | p99 ms | app CPU ms/req | DB ms/req (log) | DB exec ms (server) "
    "| statements | % of bare | % of one-query | target | failed |"
)


def _share(rps: float, baseline: float) -> float | None:
    """A page's throughput as a share of a baseline's; None when the baseline completed no
    request in its run (both workers still busy with the page before it)."""
    return rps / baseline if baseline else None


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _target(row: dict) -> str:
    share = _share(row["rps"], row["one_rps"]) or 0.0
    name = row["page"]
    if name in LIST_PAGES:
        ok = share >= 0.25 and row.get("plan_ms", row["sql_ms"]) <= 10
        return ("ok" if ok else "MISSED") + " (>=25%, <=10 ms DB)"
    if name == "request page":
        return ("ok" if share >= 0.15 else "MISSED") + " (>=15%)"
    if name in REPORT_PAGES:
        ok = share >= 0.05 and row["p99"] < 1000
        return ("ok" if ok else "MISSED") + " (>=5%, p99<1 s)"
    return ""


def _cells(row: dict) -> list[str]:
    return [
        row["page"],
        f"{row['rps']:.1f}",
        f"{row['p50']:.1f}",
        f"{row['p99']:.1f}",
        f"{row['cpu_ms']:.1f}",
        f"{row['sql_ms']:.1f}",
        f"{row.get('plan_ms', 0.0):.1f}",
        f"{row['statements']:.0f}",
        _percent(_share(row["rps"], row["bare_rps"])),
        _percent(_share(row["rps"], row["one_rps"])),
        _target(row),
        str(row["failed"]),
    ]


def _line(row: dict) -> str:
    cells = _cells(row)
    return (
        f"  {cells[0]:<16} {cells[1]:>7} req/s  p50 {cells[2]:>7} ms  p99 {cells[3]:>7} ms  "
        f"cpu {cells[4]:>6} ms  db {cells[5]:>6} ms  stmts {cells[7]:>3}  "
        f"bare {cells[8]:>6} one-query {cells[9]:>6}  {cells[10]}  failed {cells[11]}"
        f"  (baselines {row['bare_rps']:.0f} / {row['one_rps']:.0f} req/s,"
        f" cpu {row['bare_cpu']:.1f} / {row['one_cpu']:.1f} ms)"
    )


def markdown(label: str, size: str, rows: list[dict], args) -> str:
    bare = statistics.median(r["bare_rps"] for r in rows)
    one = statistics.median(r["one_rps"] for r in rows)
    bare_cpu = statistics.median(r["bare_cpu"] for r in rows)
    one_cpu = statistics.median(r["one_cpu"] for r in rows)
    out = [
        f"### {label}: {size} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"wrk/load: {args.connections} connections, {args.seconds} s per run; "
        f"baselines (median of the runs beside each page): bare {bare:.0f} req/s "
        f"({bare_cpu:.1f} ms CPU), one-query {one:.0f} req/s ({one_cpu:.1f} ms CPU)."
        + (f" Server environment: {' '.join(args.env)}." if args.env else ""),
        "",
        HEADER,
        "|" + "---|" * 12,
    ]
    out += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(out) + "\n\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="demo,10000", help="demo and/or request counts")
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages_{size}",
        help="PostgreSQL URL; {size} is replaced by the size",
    )
    parser.add_argument("--reuse", action="store_true", help="keep a database already built")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--port", type=int, default=8777)
    parser.add_argument("--label", default="run")
    parser.add_argument("--pages", default="", help="comma-separated page names (default all)")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=value for the server (e.g. a setting)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not append to the results")
    parser.add_argument(
        "--plans-only", action="store_true", help="only the server-side database time per page"
    )
    args = parser.parse_args()
    args.pages = {p.strip() for p in args.pages.split(",") if p.strip()}
    for size in args.sizes.split(","):
        url = args.database_url.replace("{size}", size)
        if args.plans_only:
            run_plans_only(size, url, args)
            continue
        rows = run_size(size, url, args)
        if not args.no_write:
            with RESULTS.open("a") as results:
                results.write(markdown(args.label, size, rows, args))
    if not args.plans_only and sum(r["failed"] for r in rows):
        print(f"{sum(r['failed'] for r in rows)} requests failed", file=sys.stderr)


if __name__ == "__main__":
    main()
