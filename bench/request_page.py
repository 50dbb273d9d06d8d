"""CPU per request page with a long history, against baselines measured in the same run.

    .venv/bin/python bench/request_page.py                 # SQLite file in a temp dir
    .venv/bin/python bench/request_page.py --history 60 --repeat 30

It builds, through the workflow (`fire`, as the app does), one request in assessment with
`--history` documents and `--history` suspensions and resumptions by as many users (each a
stage visit and two audit entries), then, with the test client logged in as the agency user,
times `--repeat` GETs of each of: `/healthz` (no database), the requests list, and the request
page. It prints the process CPU and wall time per request and the request page's CPU as a
multiple of each baseline's (lower is better). The same script runs against an older checkout
for a before/after figure (its app is imported from the current directory).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path.cwd()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery staple 42"


def _build(app, history: int) -> tuple[int, str, str | None]:
    import pytest

    from app.accounts.passwords import hash_password
    from app.core.fire import fire
    from app.extensions import db
    from tests.document_support import upload
    from tests.factories import Factories
    from tests.workflow_support import STEP, T0, make_cast, no_area_hooks, walk_to

    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        # As the page tests do: the workflow without the other areas' hooks and guards
        # (documents, conflicts of interest), so the walk needs no uploads or declarations.
        no_area_hooks.__wrapped__(patch)
        db.create_all()
        make = Factories(db.session)
        cast = make_cast(make)
        request = make.request(manufacturer=cast.manufacturer_org, complete=True)
        for n in range(history):
            colleague = make.user("manufacturer", organisation=cast.manufacturer_org)
            upload(
                colleague, request, ("study", "other", "price_list")[n % 3], title=f"P{n}", now=T0
            )
        moment = walk_to(request, "assessment", cast)
        for n in range(history):
            agency_user = make.user("agency")
            moment += STEP
            fire(request, "suspend", agency_user, moment, reason=f"Check {n}.")
            moment += STEP
            fire(request, "resume", agency_user, moment, reason="Checked.")
        cast.agency.password_hash = hash_password(PASSWORD)
        db.session.commit()
        return request.id, cast.agency.email, cast.agency.totp_secret


def _time(client, url: str, repeat: int) -> tuple[float, float]:
    client.get(url)  # warm: templates compiled, caches filled
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return (time.process_time() - cpu) / repeat, (time.perf_counter() - wall) / repeat


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    args = parser.parse_args(argv)

    from app import create_app

    folder = tempfile.mkdtemp(prefix="hta-bench-page-")
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "INSTANCE_DIR": folder,
            "WTF_CSRF_ENABLED": False,
        },
    )
    request_id, email, secret = _build(app, args.history)
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    if response.headers.get("Location", "").endswith("/auth/two-factor"):
        from app.accounts import second_factor as factor
        from app.models.types import utcnow

        with app.app_context():
            code = factor.code_at(secret, utcnow())
        response = client.post("/auth/two-factor", data={"code": code})
    assert response.status_code in (302, 303), response.status_code
    urls = {"healthz": "/healthz", "list": "/requests/", "page": f"/requests/{request_id}"}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in urls}
    for _ in range(args.rounds):
        for name, url in urls.items():
            samples[name].append(_time(client, url, args.repeat))
    cpu = {name: statistics.median(s[0] for s in values) for name, values in samples.items()}
    wall = {name: statistics.median(s[1] for s in values) for name, values in samples.items()}
    print(f"history {args.history} (stage visits ~{2 * args.history + 4}), repeat {args.repeat}")
    for name in urls:
        print(f"{name:8} CPU {cpu[name] * 1000:7.2f} ms  wall {wall[name] * 1000:7.2f} ms")
    print(
        f"request page CPU = {cpu['page'] / cpu['healthz']:.1f}x /healthz, "
        f"{cpu['page'] / cpu['list']:.2f}x the requests list"
    )


if __name__ == "__main__":
    main()
