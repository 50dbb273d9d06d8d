"""Cross-cutting pieces of the assessment blueprint.

- Every page needs a login.
- An assessor of the assigned body who has not declared conflicts of interest for a request is
  sent to the declaration from every /requests/<request_id> URL (the dossier, the actions, the
  documents ...), whichever blueprint serves it. The scoped loader refuses them anyway
  (`get_request_for` raises CoiDeclarationRequired, a 404); this makes the refusal a redirect.
- Template globals for the request page: the links to this area's pages for the current user,
  and the usage totals.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from app.adoption.usage import usage_reads, usage_totals
from app.assessment import bp
from app.domain import permissions
from app.domain.evidence import takes_milestones
from app.extensions import db, login_manager
from app.formatting import current_formats
from app.models import DeviceRequest
from app.requests.action_panel import register_action_page
from app.requests.presenters import register_page_panel
from app.requests.queries import coi_status_for

DECLARATION_ENDPOINTS = frozenset({"assessment.coi_declaration"})


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.before_app_request
def send_undeclared_assessors_to_declare():
    request_id = (request.view_args or {}).get("request_id")
    if (
        not isinstance(request_id, int)
        or request.endpoint in DECLARATION_ENDPOINTS
        or not request.path.startswith("/requests/")
    ):
        return None
    if not current_user.is_authenticated or current_user.role != "assessor":
        return None
    device_request = db.session.get(DeviceRequest, request_id)
    if device_request is None:
        return None
    if coi_status_for(current_user, device_request) != permissions.COI_MISSING:
        return None
    flash(_("Declare your conflicts of interest for this request first."), "warning")
    return redirect(url_for("assessment.coi_declaration", request_id=request_id))


@dataclass(frozen=True)
class AreaLink:
    label: str
    url: str
    hint: str = ""


def _links_for(actor, req) -> list[AreaLink]:
    links: list[AreaLink] = []
    rid = req.id
    if permissions.can_view_priority(actor, req) and req.state in (
        permissions.PRIORITISATION_STATES
    ):
        links.append(
            AreaLink(
                _("Score the prioritisation criteria")
                if actor.role == "agency"
                else _("Prioritisation scores"),
                url_for("assessment.scores", request_id=rid),
                _("Each criterion from 0 to 3, with its justification."),
            )
        )
    if actor.role == "agency" and req.state == "assignment":
        links.append(
            AreaLink(
                _("Choose the regional HTA body"), url_for("assessment.assignment", request_id=rid)
            )
        )
    elif actor.role == "agency" and req.assigned_body_id is not None:
        links.append(
            AreaLink(
                _("Assignment and conflicts of interest"),
                url_for("assessment.assignment", request_id=rid),
            )
        )
    cleared = coi_status_for(actor, req) == permissions.COI_CLEARED
    recommendation = getattr(req, "recommendation", None)
    if recommendation is not None and takes_milestones(recommendation.outcome):
        links.append(
            AreaLink(_("Evidence milestones"), url_for("assessment.milestones", request_id=rid))
        )
    if permissions.can_view_reuse(actor, req, cleared):
        links.append(
            AreaLink(
                _("Reuse: matching requests and existing assessments"),
                url_for("assessment.reuse", request_id=rid),
            )
        )
    if permissions.can_view_assessment(actor, req, cleared):
        links.append(
            AreaLink(
                _("Assessment (HTA Core Model)"), url_for("assessment.checklist", request_id=rid)
            )
        )
    if permissions.is_manufacturer_of(actor, req) and req.state == "factual_accuracy_check":
        links.append(
            AreaLink(
                _("Check the draft report"),
                url_for("assessment.factual_check", request_id=rid),
                _("Return your factual-accuracy comments section by section."),
            )
        )
    if (
        actor.role == "agency"
        and req.state in permissions.ASSESSMENT_VISIBLE_STATES
        and (req.state in permissions.APPRAISAL_STATES or getattr(req, "recommendation", None))
    ):
        links.append(
            AreaLink(
                _("Appraisal and recommendation"), url_for("assessment.appraisal", request_id=rid)
            )
        )
    return links


def assessment_links(actor, req) -> list[AreaLink]:
    """The pages of this area `actor` may open for the request (a request page panel)."""
    if not actor.is_authenticated or req is None or req.id is None:
        return []
    return _links_for(actor, req)


def duplicates_of(actor, req, rows: dict | None = None) -> list:
    """For the agency: the other requests for the same device (the intake check flags them).
    `rows`: the request page's reads (`duplicates_reads_for`), when it read them."""
    if not _shows_duplicates(actor, req):
        return []
    from app.assessment.reuse import duplicates_among

    return duplicates_among(req, (rows or {}).get("duplicates"))


def duplicates_reads_for(actor, req):
    """The duplicates panel's read, for the request page to run with its own."""
    if not _shows_duplicates(actor, req):
        return None
    from app.assessment.reuse import duplicates_reads

    return duplicates_reads(req)


def _shows_duplicates(actor, req) -> bool:
    if not actor.is_authenticated or actor.role != "agency" or req is None:
        return False
    return req.id is not None and req.state != "draft"


def usage_totals_for(actor, req, rows: dict | None = None):
    """Usage totals of the request for `actor` (None when not theirs to see); `rows`: the
    request page's reads (`usage_reads_for`), when it read them."""
    if not actor.is_authenticated or req is None:
        return None
    usage = usage_totals(actor, req, (rows or {}).get("usage"))
    if usage is not None and usage.quarters:  # what the panel draws, formatted once
        usage.text = _usage_text(usage)
    return usage


# The usage table's figures as formatted: {key: UsageText}, the oldest dropped beyond
# _USAGE_TEXT_SIZE. Exact: the key holds the locale and zone of the formatters and every
# value `UsageTotals.formatted` reads (each quarter's totals, the dossier's two figures).
_USAGE_TEXT: OrderedDict[tuple, object] = OrderedDict()
_USAGE_TEXT_SIZE = 512


def _usage_text(usage):
    """`usage.formatted(current_formats())`, worked out once per key, then kept."""
    key = (
        str(get_locale()),
        str(get_timezone()),
        # Decimals by their text: equal values with other exponents may show otherwise.
        tuple(
            (q.year, q.quarter, q.units, q.procedures, str(q.spend), q.adverse_events, q.centres)
            for q in usage.quarters
        ),
        str(usage.expected_per_quarter),
        str(usage.budget_impact_3y),
    )
    text = _USAGE_TEXT.get(key)
    if text is None:
        text = _USAGE_TEXT[key] = usage.formatted(current_formats())
        if len(_USAGE_TEXT) > _USAGE_TEXT_SIZE:
            _USAGE_TEXT.popitem(last=False)
    return text


register_page_panel("area_links", assessment_links)


def usage_reads_for(actor, req):
    """The usage panel's read, for the request page to run with its own."""
    if not actor.is_authenticated or req is None:
        return None
    return usage_reads(actor, req)


register_page_panel("usage", usage_totals_for, reads=usage_reads_for)
register_page_panel("duplicates", duplicates_of, reads=duplicates_reads_for)


# --- Actions done on this area's pages --------------------------------------------------------


def _page(endpoint: str):
    return lambda req: url_for(endpoint, request_id=req.id)


for _trigger, _endpoint in (
    ("assign_body", "assessment.assignment"),
    ("return_factual_comments", "assessment.factual_check"),
    ("open_consultation", "assessment.appraisal"),
    ("publish", "assessment.appraisal"),
):
    register_action_page("request", _trigger, _page(_endpoint))
