"""Workflow actions and IRCCS adoption pages.

`bp` ("actions", mounted under /requests) fires request actions:
    POST /requests/<request_id>/actions/<trigger>
`adoptions_bp` ("adoptions", mounted under /adoptions) lists adoption records, shows one, and
fires adoption actions:
    GET /adoptions/            GET /adoptions/<adoption_id>
    POST /adoptions/<adoption_id>/actions/<trigger>
"""

from flask import Blueprint

bp = Blueprint("actions", __name__)
adoptions_bp = Blueprint("adoptions", __name__)

from app.actions import adoption_views, views  # noqa: E402, F401
