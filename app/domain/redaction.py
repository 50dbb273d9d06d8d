"""What a viewer may see of one request: its dossier fields, documents, audit entries and the
adoption figures of each IRCCS. The one place that decides it.

`view_of(actor, request)` works out the viewer's relation to the request once (the manufacturer
that owns it, the agency, the assigned body's assessor, an IRCCS, another organisation, the
anonymous public, or the system for CLI reports) and returns a `RequestView`; every page, export
(the record PDF included), API response and the public register then ask that view, through the
functions below, instead of re-deriving the rules.

The rules (the parties are the owner manufacturer, the agency once the request is submitted,
and the assessors of the assigned body; see `app.domain.permissions.can_see_confidential`):
- Fields the manufacturer marked confidential: only the parties. The public register shows
  only fields the schema lets be public (`app.domain.dossier_fields`), minus the marked ones.
- Documents: the parties see every document; anybody else only the ones the agency published
  on the register (never a confidential one).
- The audit trail: the parties only. Within it, the manufacturer does not see the internal
  entries (assessors' conflict-of-interest declarations, the agency's priority scoring and
  weights); nobody but the agency sees adoption entries (each IRCCS's decisions, usage and
  spend: an IRCCS reads its own on its adoption record, manufacturers and assessors get 404 on
  an adoption record).
- Adoption and usage figures: the agency every IRCCS's, an IRCCS only its own, nobody else any.

Pure: plain attributes only (`actor.role`, `actor.organisation_id`, `request.manufacturer_id`,
`request.state`, `request.assigned_body_id`, `request.confidential_fields`,
`entry.entity_type`, `entry.action`, `document.public`, `document.confidential`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from app.domain import permissions
from app.domain.dossier_fields import FIELD_NAMES, Register, register_fields


class Relation(StrEnum):
    SYSTEM = "system"  # no actor: CLI reports, which file the whole record
    OWNER = "owner"  # the manufacturer of the request
    AGENCY = "agency"
    ASSESSOR = "assessor"  # an assessor of the assigned regional body
    IRCCS = "irccs"
    OTHER = "other"  # another manufacturer, an assessor of another body, an administrator
    PUBLIC = "public"  # nobody logged in (the transparency register)


PARTIES = frozenset({Relation.SYSTEM, Relation.OWNER, Relation.AGENCY, Relation.ASSESSOR})
# Relations that see the whole audit trail of a request, internal entries included.
INTERNAL_AUDIT_READERS = frozenset({Relation.SYSTEM, Relation.AGENCY, Relation.ASSESSOR})
# Relations that see every IRCCS's adoption figures (and so the adoption audit entries).
ALL_ADOPTION_READERS = frozenset({Relation.SYSTEM, Relation.AGENCY})

# Audit entries internal to the agency and the assessing body: assessors' conflict
# declarations and the agency's priority scoring (its decision and reasons are shown).
INTERNAL_AUDIT_ENTITIES = frozenset({"coi_declaration"})
INTERNAL_AUDIT_ACTIONS = frozenset({"priority_scores_edited", "priority_weights_edited"})
# Keys of an otherwise visible entry that only the internal readers see: the basis of a
# prioritisation decision is derived from the agency's internal scores.
INTERNAL_AUDIT_DATA_KEYS = frozenset(
    {
        "priority_index",
        "priority_weights",
        "criteria_scored",
        "derived_scores",
        # A safety alert's rate and threshold come from one IRCCS's usage figures.
        "rate",
        "threshold",
    }
)
# Audit entries about one IRCCS's adoption record: its decisions, usage and spend.
ADOPTION_AUDIT_ENTITIES = frozenset({"adoption"})

PUBLIC_FIELDS = frozenset(register_fields(Register.SUMMARY, Register.DETAIL))


class RequestLike(permissions.RequestLike, Protocol):
    confidential_fields: list[str] | None


class AuditEntryLike(Protocol):
    entity_type: str
    action: str


class DocumentLike(Protocol):
    public: bool
    confidential: bool


Entry = TypeVar("Entry", bound=AuditEntryLike)
Document = TypeVar("Document", bound=DocumentLike)


@dataclass(frozen=True)
class RequestView:
    """One viewer's view of one request (see the module docstring)."""

    relation: Relation
    organisation_id: int | None
    marked_confidential: frozenset[str]

    @property
    def sees_confidential(self) -> bool:
        return self.relation in PARTIES

    @property
    def hidden_fields(self) -> frozenset[str]:
        """The dossier fields this viewer may not read."""
        if self.relation is Relation.PUBLIC:
            return frozenset(FIELD_NAMES) - PUBLIC_FIELDS | self.marked_confidential
        if self.sees_confidential:
            return frozenset()
        return self.marked_confidential

    def shows(self, field_name: str) -> bool:
        return field_name not in self.hidden_fields

    @property
    def sees_audit_trail(self) -> bool:
        return self.relation in PARTIES

    @property
    def sees_reuse(self) -> bool:
        """The existing assessments recorded on the request and the domains reused from
        them: the parties' working data (which other requests match is the agency's only)."""
        return self.relation in PARTIES

    @property
    def sees_linked_needs(self) -> bool:
        """The IRCCS needs the request is linked to: read by every logged-in process role
        (needs hold no confidential data), not by the public."""
        return self.relation is not Relation.PUBLIC

    @property
    def sees_safety_alerts(self) -> bool:
        """The safety alerts of the device: they hold one IRCCS's usage figures, so they are
        read by those who read every IRCCS's figures (the agency), like the usage itself."""
        return self.relation in ALL_ADOPTION_READERS

    @property
    def sees_milestones(self) -> bool:
        """The evidence milestones of the recommendation: every logged-in reader of the
        request (they restate what the published recommendation asks), not the public."""
        return self.relation is not Relation.PUBLIC

    @property
    def sees_every_adoption(self) -> bool:
        return self.relation in ALL_ADOPTION_READERS

    def sees_adoption_figures(self, irccs_id: int | None) -> bool:
        """Whether this viewer may read the adoption record and usage of the IRCCS `irccs_id`."""
        if self.sees_every_adoption:
            return True
        return self.relation is Relation.IRCCS and irccs_id == self.organisation_id


def relation_of(actor, request: permissions.RequestLike) -> Relation:
    if actor is None:
        return Relation.SYSTEM
    if not getattr(actor, "is_authenticated", True) or getattr(actor, "role", None) is None:
        return Relation.PUBLIC
    if permissions.is_manufacturer_of(actor, request):
        return Relation.OWNER
    if actor.role == "agency":
        return Relation.AGENCY if request.state != "draft" else Relation.OTHER
    if permissions.is_assessor_of(actor, request):
        return Relation.ASSESSOR
    if actor.role == "irccs":
        return Relation.IRCCS
    return Relation.OTHER


def view_of(actor, request: RequestLike) -> RequestView:
    """The view of `actor` (None: the system; an anonymous user: the public) on `request`.

    Whether the actor may open the request at all is `permissions.can_view_request`'s answer
    (the scoped loaders ask it); this decides what of it they read once they have."""
    return RequestView(
        relation=relation_of(actor, request),
        organisation_id=getattr(actor, "organisation_id", None),
        marked_confidential=frozenset(request.confidential_fields or ()),
    )


def public_view(request: RequestLike) -> RequestView:
    """What anybody (not logged in) may see: the transparency register."""
    return RequestView(
        relation=Relation.PUBLIC,
        organisation_id=None,
        marked_confidential=frozenset(request.confidential_fields or ()),
    )


def redact_fields(
    view: RequestView, values: Mapping[str, Any], placeholder: Any = None
) -> dict[str, Any]:
    """`values` (keyed by field name) with every field hidden from the viewer replaced by
    `placeholder`. Keys that are not dossier fields pass through."""
    hidden = view.hidden_fields
    return {name: (placeholder if name in hidden else value) for name, value in values.items()}


def visible_documents(view: RequestView, documents: Iterable[Document]) -> list[Document]:
    """The parties see every document of the request; anybody else the published ones."""
    if view.relation in PARTIES:
        return list(documents)
    return [d for d in documents if d.public and not d.confidential]


def sees_audit_entry(view: RequestView, entry: AuditEntryLike) -> bool:
    if not view.sees_audit_trail:
        return False
    if entry.entity_type in ADOPTION_AUDIT_ENTITIES:
        return view.relation in ALL_ADOPTION_READERS
    if entry.entity_type in INTERNAL_AUDIT_ENTITIES or entry.action in INTERNAL_AUDIT_ACTIONS:
        return view.relation in INTERNAL_AUDIT_READERS
    return True


def visible_audit_entries(view: RequestView, entries: Iterable[Entry]) -> list[Entry]:
    """The entries of the request's audit trail this viewer may read, in their order."""
    return [entry for entry in entries if sees_audit_entry(view, entry)]


def redact_audit_values(
    view: RequestView, values: Mapping[str, Any] | None, placeholder: Any = None
) -> dict[str, Any]:
    """An audit entry's `data` or `changes` with the values of hidden dossier fields replaced
    (for the parties, who see confidential fields, nothing changes) and the internal keys
    (`INTERNAL_AUDIT_DATA_KEYS`) left out for readers who may not see internal entries."""
    shown = redact_fields(view, values or {}, placeholder)
    if view.relation in INTERNAL_AUDIT_READERS:
        return shown
    return {key: value for key, value in shown.items() if key not in INTERNAL_AUDIT_DATA_KEYS}


# --- Small groups in aggregates ---------------------------------------------------------------

# Aggregates of IRCCS usage (units, procedures, spend, adverse events) are shown to readers who
# may not see each IRCCS's figures only when at least this many IRCCS reported into them: a
# total of one or two hospitals would be their own figures (REPORT_MIN_GROUP in the config).
DEFAULT_MIN_GROUP = 3
ITEM_BY_ITEM_REPORT_ROLES = frozenset({"agency", None})  # None: the command line


def reads_usage_item_by_item(role: str | None) -> bool:
    """Whether a report reader in `role` may see every IRCCS's usage figures anyway."""
    return role in ITEM_BY_ITEM_REPORT_ROLES


def small_group(contributors: int | None, role: str | None, minimum: int) -> bool:
    """True when an aggregate of `contributors` IRCCS must be left blank for this reader (an
    aggregate of none says nothing about anybody)."""
    if reads_usage_item_by_item(role):
        return False
    return 0 < (contributors or 0) < minimum


def unless_small_group(value, contributors: int | None, role: str | None, minimum: int):
    """`value`, or None (shown blank) when its group is too small for this reader."""
    return None if small_group(contributors, role, minimum) else value
