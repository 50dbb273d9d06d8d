"""Prioritisation, assignment and conflicts of interest, the assessment and appraisal
(blueprint "assessment", mounted under /requests).

GET       /requests/prioritisation                              ranking (agency)
GET/POST  /requests/prioritisation/weights                      weights (admin)
GET/POST  /requests/<id>/prioritisation                         scores (agency)
POST      /requests/<id>/prioritisation/decision                decide (agency)
GET/POST  /requests/<id>/assignment                             assignment, assign (agency)
POST      /requests/<id>/coi/<declaration_id>/override          coi_override (agency)
GET/POST  /requests/<id>/coi                                    coi_declaration (assessors of
                                                                the assigned body only)
GET/POST  /requests/<id>/assessment                             checklist (cleared assessors;
                                                                the agency reads it)
POST      /requests/<id>/assessment/<trigger>                   assessment_action
GET/POST  /requests/<id>/factual-check                          factual_check (manufacturer)
GET/POST  /requests/<id>/appraisal                              appraisal (agency)

Every URL needs a login; a request or adoption record the user may not see is a 404. An
assessor of the assigned body who has not declared conflicts of interest for the request is
sent to the declaration from every /requests/<id> URL (see `guards`).
"""

from flask import Blueprint

bp = Blueprint("assessment", __name__, template_folder="templates")

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = (
    "app.assessment.assessment_views",
    "app.assessment.assignment_views",
    "app.assessment.guards",
    "app.assessment.milestone_views",
    "app.assessment.prioritisation_views",
    "app.assessment.reuse_views",
)
