"""Who may do what, on which object: small `can_<verb>(actor, obj)` predicates.

Pure functions over plain attributes (`actor.role`, `actor.organisation_id`,
`request.manufacturer_id`, `request.state`, `request.assigned_body_id` ...), so they work on
model instances, snapshots and test doubles alike. Views, templates, the API and the services
all ask these same predicates; the list queries in `app.requests.queries` mirror them in SQL
(and a test checks both agree).
"""

from __future__ import annotations

from typing import Protocol

from app.domain import roles
from app.workflow.facts import ADOPTION, REQUEST, states_where
from app.workflow.states import POSITIVE_OUTCOMES

# States in which the manufacturer may edit its dossier: the draft, and while completing the
# file after intake found it incomplete (those edits are audit-logged field by field).
EDITABLE_STATES = frozenset(states_where(workflow=REQUEST, dossier_editable=True))

# Once a positive recommendation is published the request is visible to every IRCCS.
PUBLISHED_STATES = frozenset(states_where(workflow=REQUEST, published_for_adoption=True))


class Actor(Protocol):
    id: int
    role: str
    organisation_id: int | None


class RequestLike(Protocol):
    manufacturer_id: int
    state: str
    assigned_body_id: int | None


def is_manufacturer_of(actor: Actor, request: RequestLike) -> bool:
    return actor.role == "manufacturer" and actor.organisation_id == request.manufacturer_id


def is_assessor_of(actor: Actor, request: RequestLike) -> bool:
    return (
        actor.role == "assessor"
        and request.assigned_body_id is not None
        and actor.organisation_id == request.assigned_body_id
    )


def is_published_positive(request: RequestLike, outcome: str | None) -> bool:
    return request.state in PUBLISHED_STATES and outcome in POSITIVE_OUTCOMES


def can_create_request(actor: Actor) -> bool:
    return actor.role == "manufacturer" and actor.organisation_id is not None


def can_view_request(
    actor: Actor,
    request: RequestLike,
    outcome: str | None = None,
    coi_cleared: bool | None = None,
) -> bool:
    """The manufacturer its own; the agency anything submitted; an assessor what its body is
    assigned, once cleared of conflicts of interest; an IRCCS published positive
    recommendations. Admins manage users, not dossiers.

    `coi_cleared` is the assessor's clearance for this request (`coi_status(...) == COI_CLEARED`):
    False keeps the assessor out. None means the caller did not look it up (the scoped loaders
    in `app.requests.queries` always do; pages load requests through them)."""
    if is_manufacturer_of(actor, request):
        return True
    if actor.role == "agency":
        return request.state != "draft"
    if actor.role == "assessor":
        return is_assessor_of(actor, request) and coi_cleared is not False
    if actor.role == "irccs":
        return is_published_positive(request, outcome)
    return False


def can_edit_dossier(actor: Actor, request: RequestLike) -> bool:
    return is_manufacturer_of(actor, request) and request.state in EDITABLE_STATES


def can_see_confidential(actor: Actor, request: RequestLike) -> bool:
    """Confidential dossier fields: only the parties (manufacturer, agency, assigned body)."""
    return (
        is_manufacturer_of(actor, request)
        or (actor.role == "agency" and request.state != "draft")
        or is_assessor_of(actor, request)
    )


def can_manage_users(actor: Actor) -> bool:
    return actor.role == "admin"


def can_configure(actor: Actor) -> bool:
    return actor.role == "admin"


# --- Adoption records and workflow actions ----------------------------------------------------


class AdoptionLike(Protocol):
    request_id: int
    irccs_id: int


class TransitionLike(Protocol):
    roles: frozenset[str]


SYSTEM_ROLE = "system"


def is_irccs_of(actor: Actor, adoption: AdoptionLike) -> bool:
    return actor.role == "irccs" and actor.organisation_id == adoption.irccs_id


def can_view_adoption(actor: Actor, adoption: AdoptionLike) -> bool:
    """The agency sees every adoption record; an IRCCS only its own (usage and spend figures are
    that hospital's business). Manufacturers and assessors see adoption only in reports."""
    return actor.role == "agency" or is_irccs_of(actor, adoption)


def is_region_of(actor: Actor, adoption: AdoptionLike) -> bool:
    """A user of the regional HTA body of the IRCCS's region. There is no region role: the
    regional body's users (role assessor) act for the region on the adoption barriers it
    owns. They do not read the adoption record itself (its prices are the IRCCS's)."""
    if actor.role != "assessor":
        return False
    organisation = getattr(actor, "organisation", None)
    irccs = getattr(adoption, "irccs", None)
    return (
        organisation is not None
        and irccs is not None
        and organisation.kind == "regional_body"
        and organisation.region is not None
        and organisation.region == irccs.region
    )


def can_reach_adoption(actor: Actor, adoption: AdoptionLike, trigger_roles: frozenset[str]) -> bool:
    """Whether `actor` reaches the record to take an action held by `trigger_roles`: whoever
    may view it; the region's users only for an action their role holds (`resolve_barrier`,
    from the barrier's page). For anything else the record is not found to them, as its page
    is: `fire`, the record's web actions and the API give the same 404."""
    if can_view_adoption(actor, adoption):
        return True
    return actor.role in trigger_roles and is_region_of(actor, adoption)


class BarrierLike(Protocol):
    owner: str
    status: str


def can_view_barrier(actor: Actor, adoption: AdoptionLike, barrier: BarrierLike) -> bool:
    """The record's IRCCS and the agency see its barriers; the region's users those the
    region owns."""
    if can_view_adoption(actor, adoption):
        return True
    return barrier.owner == "region" and is_region_of(actor, adoption)


def can_resolve_barrier(actor: Actor, adoption: AdoptionLike, barrier: BarrierLike) -> bool:
    """The IRCCS its own, the agency any, the region's users those the region owns."""
    if barrier.status == "resolved":
        return False
    return (
        actor.role == "agency"
        or is_irccs_of(actor, adoption)
        or (barrier.owner == "region" and is_region_of(actor, adoption))
    )


def can_escalate_barrier(actor: Actor, adoption: AdoptionLike, barrier: BarrierLike) -> bool:
    """An open barrier: its IRCCS or the agency send it to the agency."""
    return barrier.status == "open" and (actor.role == "agency" or is_irccs_of(actor, adoption))


def is_adoption(obj: object) -> bool:
    return hasattr(obj, "irccs_id")


# --- Regional reimbursement cases ---------------------------------------------------------


class ReimbursementLike(Protocol):
    request_id: int
    region: str
    tariff_code: str | None


def is_reimbursement(obj: object) -> bool:
    return hasattr(obj, "tariff_code") and hasattr(obj, "region")


def acts_for_region(actor: Actor, region: str | None, actor_region: str | None) -> bool:
    """There is no "region" role: the users (role assessor) of the regional HTA body of a
    region act for that region on its reimbursement cases."""
    return actor.role == "assessor" and region is not None and actor_region == region


def can_view_reimbursement(
    actor: Actor,
    case: ReimbursementLike,
    *,
    actor_region: str | None,
    manufacturer_id: int | None,
    has_adoption_record: bool,
) -> bool:
    """The agency every case; the region's users their region's; an IRCCS of the region the
    case of a request it has an adoption record for; the manufacturer the cases of its own
    device (a tariff is public, so nothing of the case is confidential)."""
    if actor.role == "agency":
        return True
    if actor.role == "manufacturer":
        return manufacturer_id is not None and actor.organisation_id == manufacturer_id
    if actor.role == "irccs":
        return actor_region == case.region and has_adoption_record
    return acts_for_region(actor, case.region, actor_region)


def _organisation_region(actor: Actor) -> str | None:
    organisation = getattr(actor, "organisation", None)
    return getattr(organisation, "region", None)


def is_party_to(actor: Actor, obj: RequestLike | AdoptionLike) -> bool:
    """Whether the actor, in its role, is the right party to act on this request, adoption
    record or reimbursement case: the manufacturer of the request, the assessor of the
    assigned body, the agency, the IRCCS of the adoption record, or the users of the region's
    regional HTA body for its reimbursement case."""
    if actor.role == "agency":
        return True
    if is_reimbursement(obj):
        return acts_for_region(actor, obj.region, _organisation_region(actor))
    if is_adoption(obj):
        # The region's users only ever hold `resolve_barrier` (the one adoption transition
        # their role may fire), and its guard limits them to the region's barriers.
        return is_irccs_of(actor, obj) or is_region_of(actor, obj)
    if actor.role == "irccs":
        # Any IRCCS may ask to be designated for a published recommendation it can read
        # (what it may read, the visibility check before this one decides).
        return obj.state in PUBLISHED_STATES
    return is_manufacturer_of(actor, obj) or is_assessor_of(actor, obj)


def can_fire(actor: Actor | None, obj: RequestLike | AdoptionLike, spec: TransitionLike) -> bool:
    """May `actor` fire this transition on `obj` (ignoring its current state and guards)?

    `actor` None is the system (`flask deadlines check`): only SYSTEM-role transitions.
    """
    if actor is None:
        return SYSTEM_ROLE in spec.roles
    return actor.role in spec.roles and is_party_to(actor, obj)


# --- Conflicts of interest, prioritisation, assessment and usage ------------------------------

# An assessor's conflict-of-interest status for one request.
COI_MISSING = "missing"  # not declared yet: the assessor must declare before seeing the dossier
COI_CLEARED = "cleared"  # declared "none", or a declared conflict the agency overrode
COI_EXCLUDED = "excluded"  # declared a conflict, not overridden


class CoiDeclarationLike(Protocol):
    has_conflict: bool
    overridden_at: object | None


def coi_status(declaration: CoiDeclarationLike | None) -> str:
    if declaration is None:
        return COI_MISSING
    if not declaration.has_conflict or declaration.overridden_at is not None:
        return COI_CLEARED
    return COI_EXCLUDED


def can_declare_coi(actor: Actor, request: RequestLike) -> bool:
    """Every assessor of the assigned body declares for themselves."""
    return is_assessor_of(actor, request)


def can_override_coi(actor: Actor) -> bool:
    return actor.role == "agency"


PRIORITISATION_STATES = frozenset(states_where(workflow=REQUEST, ranked=True))
ASSESSMENT_EDITABLE_STATES = frozenset(states_where(workflow=REQUEST, assessment_editable=True))
# From the assessment on, the agency follows the assessment (and later appraises it).
ASSESSMENT_VISIBLE_STATES = frozenset(states_where(workflow=REQUEST, assessment_visible=True))
APPRAISAL_STATES = frozenset(states_where(workflow=REQUEST, under_appraisal=True))
USAGE_REPORTING_STATES = frozenset(states_where(workflow=ADOPTION, usage_reported=True))


def can_score_priority(actor: Actor, request: RequestLike) -> bool:
    return actor.role == "agency" and request.state in PRIORITISATION_STATES


def can_view_priority(actor: Actor, request: RequestLike) -> bool:
    return actor.role == "agency" and request.state != "draft"


def can_set_priority_weights(actor: Actor) -> bool:
    return can_configure(actor)


def can_view_assessment(actor: Actor, request: RequestLike, coi_cleared: bool | None) -> bool:
    """The cleared assessors of the assigned body, and the agency once the assessment began."""
    if actor.role == "agency":
        return request.state in ASSESSMENT_VISIBLE_STATES
    return is_assessor_of(actor, request) and coi_cleared is True


def can_edit_assessment(actor: Actor, request: RequestLike, coi_cleared: bool | None) -> bool:
    return (
        is_assessor_of(actor, request)
        and coi_cleared is True
        and request.state in ASSESSMENT_EDITABLE_STATES
    )


def can_return_factual_comments(actor: Actor, request: RequestLike) -> bool:
    return is_manufacturer_of(actor, request) and request.state == "factual_accuracy_check"


def can_appraise(actor: Actor, request: RequestLike) -> bool:
    return actor.role == "agency" and request.state in APPRAISAL_STATES


class UsageAdoptionLike(AdoptionLike, Protocol):
    state: str
    first_use_at: object | None


def can_report_usage(actor: Actor, adoption: UsageAdoptionLike) -> bool:
    """The IRCCS of the record, once the device is in use (or was, before it stopped)."""
    return (
        is_irccs_of(actor, adoption)
        and adoption.state in USAGE_REPORTING_STATES
        and (adoption.state == "in_use" or adoption.first_use_at is not None)
    )


# --- IRCCS needs ------------------------------------------------------------------------------

# A manufacturer links its request to needs until the appraisal starts.
NEED_LINKABLE_STATES = frozenset(states_where(workflow=REQUEST, pre_appraisal=True))


class NeedLike(Protocol):
    organisation_id: int


def can_read_needs(actor: Actor) -> bool:
    """Needs are posted for manufacturers and the agency to read; IRCCS and regional bodies
    read them to endorse them. They hold no confidential data."""
    return actor.role in roles.PROCESS_ROLES


def can_post_need(actor: Actor) -> bool:
    return actor.role in roles.NEED_POSTING_ROLES and actor.organisation_id is not None


def can_endorse_need(actor: Actor, need: NeedLike) -> bool:
    """Another IRCCS endorses a need (its own need is declared already)."""
    return (
        actor.role == "irccs"
        and actor.organisation_id is not None
        and actor.organisation_id != need.organisation_id
    )


def can_link_need(actor: Actor, request: RequestLike) -> bool:
    return is_manufacturer_of(actor, request) and request.state in NEED_LINKABLE_STATES


# --- Reuse of existing assessments ------------------------------------------------------------

# From intake to the end of the assessment, an existing assessment may be recorded and its
# Core Model domains adopted, adapted or redone.
REUSE_STATES = frozenset(states_where(workflow=REQUEST, pre_appraisal=True)) - {"draft"}


def can_view_reuse(actor: Actor, request: RequestLike, coi_cleared: bool | None) -> bool:
    """The agency (what matches, what was reused) and the cleared assessors of the body."""
    if actor.role == "agency":
        return request.state != "draft"
    return is_assessor_of(actor, request) and coi_cleared is True


def can_record_reuse(actor: Actor, request: RequestLike, coi_cleared: bool | None) -> bool:
    return can_view_reuse(actor, request, coi_cleared) and request.state in REUSE_STATES
