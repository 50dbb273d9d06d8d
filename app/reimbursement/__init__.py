"""Regional reimbursement: the tariff (or procedure code) a region assigns to a recommended
device, one case per (published recommendation, region), moved by the reimbursement workflow
(`app.workflow.definitions.REIMBURSEMENT_WORKFLOW`) through `fire`.

Who acts: there is no "region" role. The users of the regional HTA body of a region (role
assessor, `Organisation.region`) act for that region: they start the evaluation and decide
(a tariff or code, not needed, refused). An IRCCS of the region with an adoption record for
the request, or the agency for it, asks for the tariff (`request_tariff` on the adoption
record): that opens the case. Cases are opened on request, not at publication: most devices
need no new tariff, and a case nobody asked for would only sit in the region's queue.

`bp` ("reimbursements", under /reimbursements):
    GET  /reimbursements/<case_id>                    one case: state, tariff, history, actions
    POST /reimbursements/<case_id>/actions/<trigger>  fire a reimbursement action

service.py (the guard and the hooks of `request_tariff` and of the case's transitions),
queries.py (loading what the actor may see, the region's queue, the request page's panel,
what an adoption record waits for), views.py (pages).
"""

from flask import Blueprint

bp = Blueprint("reimbursements", __name__, template_folder="templates")

VIEW_MODULES = ("app.reimbursement.views",)
