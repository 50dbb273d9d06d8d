"""Each page's own CPU per view, in-process: the figure a busy shared machine does not move much.

    .venv/bin/python bench/page_cpu.py postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages_demo
    .venv/bin/python bench/page_cpu.py URL --pages list,home,queue --repeat 30 --profile /tmp/prof

It uses a database built by bench/pages.py (its bench users and their password), creates the
app with the production config (JSON request log to a file, CSRF, security headers: what
gunicorn runs), logs each role in through the login form and times `--repeat` views of each
page with the test client, after three warm-up views: process CPU per view, in ms. With
`--profile DIR` it also writes a cProfile (CPU clock) of each page to DIR/<page>.prof.
bench/pages.py's wrk figures are the throughput; these say where a change moved the work.
To compare two checkouts, run the script of each from its own directory, interleaved.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path.cwd()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "bench-pages-Passw0rd-2026"  # bench/pages.py's bench users
PAGES = {
    "bare": (None, "/_bench/bare"),
    "one": (None, "/_bench/one-query"),
    "api": ("api", "/api/v1/requests"),
    "list": ("agency", "/requests/"),
    "home": ("agency", "/"),
    "queue": ("agency", "/work/"),
    "register": (None, "/register/"),
    "ahome": ("assessor", "/"),
    "ihome": ("irccs", "/"),
    "mfr": ("manufacturer", "/requests/"),
    "timing": ("agency", "/reports/timing"),
    "adoption": ("agency", "/reports/adoption"),
    # The request with the longest history, and the bench manufacturer's own longest one:
    # their ids are found at start-up (`_request_paths`).
    "request": ("agency", "/requests/{long}"),
    "mreq": ("manufacturer", "/requests/{own}"),
}


def _request_paths(app) -> dict[str, str]:
    """{"long": id of the request with the most audit entries (else stage visits), as
    bench/pages.py's request page; "own": the bench manufacturer's request with the most}."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditEntry, DeviceRequest, StageRecord, User

    with app.app_context():
        found = {}
        maker = db.session.scalar(
            select(User.organisation_id).where(User.email == "bench-manufacturer@bench.example")
        )
        for name, mine in (("long", None), ("own", maker)):
            for model in (AuditEntry, StageRecord):
                query = (
                    select(model.request_id)
                    .where(model.request_id.is_not(None))
                    .group_by(model.request_id)
                    .order_by(func.count().desc(), model.request_id)
                    .limit(1)
                )
                if mine is not None:
                    query = query.join(DeviceRequest, DeviceRequest.id == model.request_id).where(
                        DeviceRequest.manufacturer_id == mine
                    )
                found[name] = db.session.scalar(query)
                if found[name] is not None:
                    break
        db.session.commit()
    return {name: str(value) for name, value in found.items()}


def _environment(url: str, tmp: str) -> None:
    os.environ.update(
        HTA_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY="bench-page-cpu-" + "x" * 32,
        HTA_INSECURE_COOKIES="1",
        HTA_INSTANCE_DIR=tmp,
        HTA_BENCH_ENDPOINTS="1",
        API_RATE_LIMIT="10000000/minute",
        LOGIN_LIMIT_PER_ADDRESS="100000/minute",
        LOGIN_LIMIT_PER_ACCOUNT="100000/minute",
        SECOND_FACTOR_LIMIT="100000/minute",
        DATABASE_STATEMENT_TIMEOUT_MS="20000",
    )


def _login(app, role: str):
    from sqlalchemy import select

    from app.accounts import second_factor
    from app.extensions import db
    from app.models import User

    client = app.test_client()
    email = f"bench-{role}@bench.example"
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == email))
        if person.totp_secret:  # a remembered browser: no code to type
            token = second_factor.remembered_device_token(person, datetime.now(UTC))
            client.set_cookie(second_factor.REMEMBERED_DEVICE_COOKIE, token, path="/auth")
        db.session.commit()
    page = client.get("/auth/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
        headers={"Referer": "https://localhost/auth/login"},  # production checks it
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"login of {email}: {answer.status_code}")
    return client


def _api_token(app) -> tuple[int, str]:
    """(id, plain text) of a new token of the bench agency, revoked by `_revoke` at the end."""
    from sqlalchemy import select

    from app.accounts import api_tokens
    from app.extensions import db
    from app.models import User

    with app.app_context():
        agency = db.session.scalar(select(User).where(User.email == "bench-agency@bench.example"))
        token, plain = api_tokens.issue_token(agency, "page-cpu", None, datetime.now(UTC))
        db.session.commit()
        return token.id, plain


def _revoke(app, token_id: int) -> None:
    """Each run's token counts against the bench agency's MAX_ACTIVE_TOKENS until revoked:
    runs that left theirs active used the allowance up for everyone on a shared database."""
    from sqlalchemy import select

    from app.accounts import api_tokens
    from app.extensions import db
    from app.models import User

    with app.app_context():
        agency = db.session.scalar(select(User).where(User.email == "bench-agency@bench.example"))
        api_tokens.revoke_token(agency, token_id, datetime.now(UTC))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="a database built by bench/pages.py")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", default="", help="directory for cProfile files")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="hta-page-cpu-")
    _environment(args.url, tmp)
    sys.stderr = open(Path(tmp) / "stderr.log", "w")  # noqa: SIM115 (the request log, kept)
    from app import create_app

    app = create_app()
    # A token only when the API page is measured: each one counts against the bench agency's
    # active tokens (MAX_ACTIVE_TOKENS), which every run on a shared database used up.
    token_id, token = _api_token(app) if "api" in args.pages.split(",") else (None, "")
    try:
        _measure(app, args, token)
    finally:
        if token_id is not None:
            _revoke(app, token_id)


def _measure(app, args, token: str) -> None:
    """Time each page of `args.pages` (and profile it with --profile)."""
    ids = _request_paths(app)
    print(f"request pages: {ids}", file=sys.__stdout__, flush=True)
    clients: dict = {}
    for name in args.pages.split(","):
        role, path = PAGES[name]
        path = path.format(**ids)
        headers = {"Accept-Language": "en"}
        if role == "api":
            headers["Authorization"] = f"Bearer {token}"
        if role not in clients:
            clients[role] = _login(app, role) if role not in (None, "api") else app.test_client()
        client = clients[role]
        for _ in range(3):
            status = client.get(path, headers=headers).status_code
            if status != 200:
                raise RuntimeError(f"{name} {path}: {status}")
        started = time.process_time()
        for _ in range(args.repeat):
            client.get(path, headers=headers)
        cpu = (time.process_time() - started) / args.repeat * 1000
        print(f"{name:<10} {cpu:7.2f} ms CPU per view", file=sys.__stdout__, flush=True)
        if args.profile:
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            for _ in range(args.repeat):
                client.get(path, headers=headers)
            profile.disable()
            profile.dump_stats(str(Path(args.profile) / f"{name}.prof"))


if __name__ == "__main__":
    main()
