"""Requests: the dossier (list, create, edit, view) and its workflow actions.

`bp` ("requests", under /requests): the list, the form and the request page.
`actions_bp` ("actions", under /requests) fires request actions:
    POST /requests/<request_id>/actions/<trigger>

views.py (dossier pages), action_views.py and perform.py (firing an action from a form),
queries.py (loading what the actor may see), operations.py (creating and editing the dossier),
presenters.py and action_panel.py (what the request page shows).
"""

from flask import Blueprint

bp = Blueprint("requests", __name__, template_folder="templates")
actions_bp = Blueprint("actions", __name__)

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = (
    "app.requests.action_views",
    "app.requests.views",
)
