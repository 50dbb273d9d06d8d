"""The safety loop: adverse-event rates against each device's threshold, CE certificates past
expiry, the alerts they raise to the agency and its one-click suspension.

`bp` ("safety", under /safety):
    GET  /safety/                              open and recent alerts (agency)
    POST /safety/alerts/<id>/suspend           suspend the device from the alert (fire)
    POST /safety/alerts/<id>/dismiss           dismiss the alert, with a reason
    GET/POST /safety/requests/<id>/threshold   the device's threshold (agency)

operations.py (thresholds, raising, acting on alerts), views.py (pages).
"""

from flask import Blueprint

bp = Blueprint("safety", __name__, template_folder="templates")

VIEW_MODULES = ("app.safety.views",)
