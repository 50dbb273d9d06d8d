"""IRCCS adoption and usage: the adoption records of each published recommendation and the
quarterly usage reports.

`bp` ("adoptions", under /adoptions) lists adoption records, shows one, fires adoption actions:
    GET /adoptions/            GET /adoptions/<adoption_id>
    POST /adoptions/<adoption_id>/actions/<trigger>
`usage_bp` ("usage", under /requests): the usage reports of one adoption record:
    GET/POST /requests/<request_id>/adoptions/<adoption_id>/usage

views.py and usage_views.py (pages), queries.py (loading what the actor may see),
presenters.py (what the pages show), usage.py (reporting and totalling usage).
"""

from flask import Blueprint

bp = Blueprint("adoptions", __name__, template_folder="templates")
usage_bp = Blueprint("usage", __name__)

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = (
    "app.adoption.usage_views",
    "app.adoption.views",
)
