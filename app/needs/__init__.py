"""IRCCS needs: unmet clinical needs posted by IRCCS and regional bodies, endorsed by other
IRCCS, linked to requests by their manufacturers, and read back as the "declared need"
prioritisation criterion.

`bp` ("needs", under /needs):
    GET /needs/                    the list (every process role)
    GET/POST /needs/new            post a need (IRCCS, regional body)
    GET /needs/<need_id>           one need, its endorsements and linked requests
    POST /needs/<need_id>/endorse  endorse (another IRCCS)
    POST /needs/<need_id>/link     link one of the manufacturer's requests
    POST /needs/<need_id>/unlink   remove that link

operations.py (posting, endorsing, linking, the figures of the criterion), queries.py
(lists in a constant number of statements), views.py (pages).
"""

from flask import Blueprint

bp = Blueprint("needs", __name__, template_folder="templates")

VIEW_MODULES = ("app.needs.views",)
