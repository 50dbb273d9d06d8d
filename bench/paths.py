"""Cold time of the pages that show the paths to the first patient: the timing report page
(its time-to-patient section), the adoption report page (its time-to-patient section) and the
public adoption map, each loaded through the app (test client, agency user; the map
anonymously) right after the report caches were dropped, as after any change of the data.

    .venv/bin/python bench/paths.py --size 10000                 # builds bench_paths_10000
    .venv/bin/python bench/paths.py --size 10000 --reuse --label after

The database is bench/pages.py's (`build`: `flask db upgrade`, then bench/synthetic.py's data;
`--reuse` keeps one already filled, and upgrades it). Per page, over --runs cold loads: wall
time and the app's CPU time (this process; PostgreSQL's time is the difference), best and
median, and the status code. Figures are printed, one line per page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pages import _test_login, build, prepare  # noqa: E402

PAGES = {
    "timing page": ("agency", "/reports/timing?lang=en"),
    "adoption page": ("agency", "/reports/adoption?lang=en"),
    "public adoption map": (None, "/register/adoption?lang=en"),
}


def _clients(app, info):
    from sqlalchemy import select

    from app.accounts import second_factor
    from app.extensions import db
    from app.models import User
    from app.models.types import utcnow

    agency = _test_login(app, db, select, User, second_factor, info["users"]["agency"], utcnow())
    return {"agency": agency, None: app.test_client()}


def measure(url: str, runs: int) -> list[tuple[str, int, list[float], list[float]]]:
    from app import create_app
    from app.reports_pages import queries as report_queries

    info = prepare(url)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    results = []
    with app.app_context():
        clients = _clients(app, info)
        for name, (who, path) in PAGES.items():
            walls, cpus, status = [], [], 0
            for _ in range(runs):
                report_queries.clear_cache()
                wall, cpu = time.perf_counter(), time.process_time()
                response = clients[who].get(path)
                cpus.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
                status = response.status_code
            results.append((name, status, walls, cpus))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10000")
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_paths_{size}",
    )
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--label", default="run")
    args = parser.parse_args()
    url = args.database_url.format(size=args.size)
    env = os.environ | {"DATABASE_URL": url, "FLASK_APP": "wsgi", "HTA_ENV": "development"}
    env.pop("TEST_DATABASE_URL", None)
    build(args.size, url, env, args.reuse)
    for name, status, walls, cpus in measure(url, args.runs):
        print(
            f"{args.label} {args.size} {name}: status {status}, cold wall best "
            f"{min(walls):.3f} s median {statistics.median(walls):.3f} s, app CPU best "
            f"{min(cpus):.3f} s median {statistics.median(cpus):.3f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
