"""The JSON API, /api/v1: personal-token authentication, the same permissions and services as
the web pages, problem+json errors, idempotent POSTs, a per-token rate limit, and an OpenAPI
3.1 document generated from the routes themselves (`app.api.registry`).

The blueprint is exempt from CSRF: it reads no cookies, only `Authorization: Bearer <token>`.
"""

from flask import Blueprint

from app.extensions import csrf
from app.sqlite_reads import writes_on_read

bp = Blueprint("api", __name__, template_folder="templates")
csrf.exempt(bp)
# Every call records its token's use (and rate), GETs too.
writes_on_read(bp)

# The modules that register the API's operations: create_app imports them, so that importing
# any other module of the package never pulls in every endpoint.
VIEW_MODULES = (
    "app.api.adoptions",
    "app.api.auth",
    "app.api.documents",
    "app.api.errors",
    "app.api.information",
    "app.api.me",
    "app.api.milestones",
    "app.api.needs",
    "app.api.notifications",
    "app.api.openapi",
    "app.api.reimbursements",
    "app.api.reports",
    "app.api.reuse",
    "app.api.safety",
    "app.api.requests",
    "app.api.workflow",
)
