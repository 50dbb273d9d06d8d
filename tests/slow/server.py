"""A real HTA Tracker server for the slow tests: a scratch database, `flask db upgrade`, then
gunicorn with several workers on a free loopback port, configured as in production.

    with scratch_database("postgresql") as url, LiveServer(url) as server:
        server.base_url            # http://127.0.0.1:<port>
        server.worker_pids()       # the gunicorn workers, to kill one mid-request
        server.flask("audit", "verify")   # a CLI command on the same database
        server.server_errors()     # tracebacks the server logged (must stay empty)

PostgreSQL: a database of its own (`hta_slow_<pid>_<n>`) on the server of TEST_DATABASE_URL
(or HTA_SLOW_PG_URL, default postgres@127.0.0.1:5432), dropped at the end. SQLite: a file in a
temporary folder, served with ALLOW_SQLITE_IN_PRODUCTION=1. Nothing here knows the app's code:
it talks to it as an operator would (environment, CLI, HTTP).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKERS = 3
_names = itertools.count(1)


def postgres_admin_url() -> str:
    """A libpq URL of the PostgreSQL server the slow tests use (its `postgres` database)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = os.environ.get("HTA_SLOW_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = url.replace("postgresql+psycopg://", "postgresql://")
    base, _, _db = url.rpartition("/")
    return f"{base}/postgres"


def postgres_available() -> bool:
    try:
        with psycopg.connect(postgres_admin_url(), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def sqlalchemy_url(libpq_url: str) -> str:
    return libpq_url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextlib.contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new, empty database; yields its SQLAlchemy URL and drops it at the end."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hta-slow-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'hta.sqlite3'}"
        return
    name = f"hta_slow_{os.getpid()}_{next(_names)}"
    admin = postgres_admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sqlalchemy_url(admin.rpartition("/")[0] + "/" + name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn serving the app on `database_url` with a production configuration."""

    def __init__(self, database_url: str, *, workers: int = WORKERS, env: dict | None = None):
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="hta-server-")
        self.instance_dir = Path(self._tmp.name) / "instance"
        self.log_path = Path(self._tmp.name) / "gunicorn.log"
        self.env = os.environ.copy() | {
            "FLASK_APP": "wsgi",
            "HTA_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": database_url,
            "HTA_INSTANCE_DIR": str(self.instance_dir),
            # Plain HTTP on loopback: let the session cookie travel (config.py).
            "HTA_INSECURE_COOKIES": "1",
            # Many clients share one token and log in from one address in these tests; the
            # limits have tests of their own.
            "API_RATE_LIMIT": "100000/minute",
            "API_TOKEN_FAILURE_LIMIT": "100000/minute",
            "LOGIN_LIMIT_PER_ADDRESS": "100000/minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000/minute",
            "SECOND_FACTOR_LIMIT": "100000/minute",
        }
        self.env |= {
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            # Each server its own metrics folder (gunicorn.conf.py empties it at start).
            "PROMETHEUS_MULTIPROC_DIR": str(Path(self._tmp.name) / "prometheus"),
        }
        self.env.pop("TEST_DATABASE_URL", None)
        if database_url.startswith("sqlite"):
            self.env["ALLOW_SQLITE_IN_PRODUCTION"] = "1"
        self.env |= env or {}
        self.process: subprocess.Popen | None = None

    # --- The operator's commands ---

    def flask(
        self, *args: str, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess:
        """`flask <args>` against the server's database, as cron or an operator would run it
        (`input`: what the operator types at its prompts)."""
        return subprocess.run(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input,
        )

    def flask_in_background(self, *args: str) -> subprocess.Popen:
        """`flask <args>` started and left running (communicate() to wait for its output)."""
        return subprocess.Popen(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def start(self) -> LiveServer:
        upgrade = self.flask("db", "upgrade")
        if upgrade.returncode != 0:
            raise RuntimeError(f"flask db upgrade failed:\n{upgrade.stderr[-3000:]}")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                # The production settings (gunicorn.conf.py, as boot.sh runs it), on loopback.
                "--config",
                "gunicorn.conf.py",
                # Not gunicorn's control socket: one per user in ~/.gunicorn, shared by servers.
                "--no-control-socket",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self.wait_until_ready()
        return self

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()[-3000:]}")
            try:
                answer = requests.get(self.base_url + "/readyz", timeout=2)
                if answer.status_code == 200 and len(self.worker_pids()) == self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{self.log()[-3000:]}")

    def worker_pids(self) -> list[int]:
        """The live worker processes (gunicorn's master replaces a killed one)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def worker_with_local_port(self, port: int) -> int | None:
        """The worker owning the TCP socket bound to local `port` on loopback (e.g. its
        connection to PostgreSQL, whose `client_port` pg_stat_activity shows)."""
        inodes = _socket_inodes_on_local_port(port)
        for pid in self.worker_pids():
            try:
                links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            except OSError:
                continue
            if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
                return pid
        return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def server_errors(self) -> list[str]:
        """What the app logged as unexpected: Flask's "Exception on ..." tracebacks and
        answers of 500 (the request log's JSON lines). A 503 is an answer (the database was
        unreachable: retry), not a crash."""
        found = []
        for line in self.log().splitlines():
            if "Exception on " in line:
                found.append(line)
                continue
            if not line.startswith("{"):
                continue
            try:
                status = json.loads(line).get("status")
            except ValueError:
                continue
            if isinstance(status, int) and status >= 500 and status != 503:
                found.append(line)
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
        self._tmp.cleanup()

    def __enter__(self) -> LiveServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


class BootedServer(LiveServer):
    """A server started as the image's entrypoint starts it: `boot.sh` (`flask db upgrade`, then
    `exec gunicorn --config gunicorn.conf.py`), its migration output in the server's log.
    `launch()` starts it without waiting, so that several may boot at the same moment."""

    def __init__(self, database_url: str, **kwargs):
        super().__init__(database_url, **kwargs)
        # boot.sh finds `flask` and `gunicorn` on PATH, as in the image (/opt/venv/bin).
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"

    def launch(self) -> BootedServer:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            ["/bin/sh", str(ROOT / "boot.sh")],
            cwd=self._tmp.name,  # boot.sh changes to its own folder
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        return self

    def start(self) -> BootedServer:
        self.launch().wait_until_ready(timeout=120)
        return self


def _die_with_parent() -> None:
    """In the child before exec: gunicorn gets SIGTERM when the test run dies, even when it
    is killed without running its teardown (Linux's PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _socket_inodes_on_local_port(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            local_port = int(columns[1].rpartition(":")[2], 16)
            if local_port == port:
                inodes.add(columns[9])
    return inodes
