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

from app.assessment import (  # noqa: E402, F401
    assessment_views,
    assignment_views,
    guards,
    prioritisation_views,
)
