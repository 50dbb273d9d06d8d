"""Two baseline endpoints for the page benchmark (bench/pages.py), registered only when
BENCH_ENDPOINTS is on (HTA_BENCH_ENDPOINTS=1): never in a normal deployment.

- /_bench/bare answers a constant text: the cost of Flask, the middleware and gunicorn;
- /_bench/one-query loads one organisation through the ORM: that plus a round trip to the
  database and a session.

The benchmark serves them with the same gunicorn settings as the pages and divides each page's
throughput by theirs, measured in the same run, so that the ratios do not depend on the machine.
"""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from app.extensions import db
from app.models import Organisation

bp = Blueprint("bench", __name__)


@bp.get("/_bench/bare")
def bare():
    return "ok", 200, {"Content-Type": "text/plain"}


@bp.get("/_bench/one-query")
def one_query():
    organisation = db.session.scalars(
        select(Organisation).order_by(Organisation.id).limit(1)
    ).first()
    return (organisation.name if organisation else "none"), 200, {"Content-Type": "text/plain"}
