"""Test data for a live server, written with the app's own code in the test process (a second
app object on the server's database and instance folder, as `flask` commands are).

Every state is reached through `fire` with every area's hooks, exactly as users would reach it
(mandatory documents before submitting, conflicts of interest declared before accepting ...),
so audit trails, stage records and read models agree from the start.

The values handed to tests are plain (ids, emails, tokens): no ORM object outlives its session.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, StageRecord, User
from tests.factories import DEFAULT_PASSWORD, Factories

_serial = itertools.count(1)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=1)
RECOMMENDATION = {"outcome": "recommended", "rationale": "Clear benefit in high-risk patients."}


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    role: str
    organisation_id: int | None
    token: str
    totp_secret: str | None = None  # the second factor of agency staff and assessors
    password: str = DEFAULT_PASSWORD


@dataclass
class People:
    """One test's cast: a manufacturer (and a colleague), the agency, an assessor, an IRCCS."""

    manufacturer: Person
    colleague: Person  # same manufacturer organisation
    agency: Person
    assessor: Person
    irccs: Person
    bodies: list[int] = field(default_factory=list)  # regional body ids; the assessor's first

    def all(self) -> list[Person]:
        return [self.manufacturer, self.colleague, self.agency, self.assessor, self.irccs]


class Seeder:
    """Writes test data to a LiveServer's database with the app's code."""

    def __init__(self, server):
        self.server = server
        self.app = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": server.database_url,
                "INSTANCE_DIR": str(server.instance_dir),
            },
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[Factories]:
        """An app context whose work is committed at the end (rolled back on error)."""
        with self.app.app_context():
            try:
                yield Factories(db.session)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()

    # --- People ---

    def people(self) -> People:
        from app.accounts.api_tokens import issue_token

        n = next(_serial)
        with self.session() as make:
            maker = make.org("manufacturer", name=f"Maker {n}")
            body = make.org("regional_body", name=f"Body {n}")
            other_body = make.org("regional_body", name=f"Other body {n}", region="veneto")
            users = {
                "manufacturer": make.user("manufacturer", organisation=maker),
                "colleague": make.user("manufacturer", organisation=maker),
                "agency": make.user("agency"),
                "assessor": make.user("assessor", organisation=body),
                "irccs": make.user("irccs"),
            }
            persons = {}
            for name, user in users.items():
                _row, token = issue_token(user, "slow tests", 90, datetime.now(UTC))
                persons[name] = Person(
                    user.id, user.email, user.role, user.organisation_id, token, user.totp_secret
                )
            return People(**persons, bodies=[body.id, other_body.id])

    # --- Requests through the workflow ---

    def requests(self, people: People, state: str, count: int = 1, **fields) -> list[int]:
        """`count` complete requests of `people`'s manufacturer brought to `state` through
        `fire` (with every hook). "draft_ready" is a draft that may be submitted."""
        ids = []
        for _ in range(count):
            with self.session() as make:
                ids.append(self._walk(make, people, state, fields))
        return ids

    def _walk(self, make, people: People, state: str, fields: dict) -> int:
        from app.assessment.coi import declare
        from app.assessment.prioritisation import save_scores
        from app.core.fire import fire
        from app.domain.prioritisation import CRITERIA
        from tests.document_support import attach_mandatory_documents

        users = {p.role: db.session.get(User, p.id) for p in people.all()}
        users["manufacturer"] = db.session.get(User, people.manufacturer.id)
        request = make.request(
            manufacturer=users["manufacturer"].organisation, complete=True, **fields
        )
        moment = START
        if state == "draft":
            return request.id
        attach_mandatory_documents(users["manufacturer"], request, now=moment)
        if state == "draft_ready":
            return request.id
        for trigger, role, data in _steps_to(state, people):
            moment += STEP
            values = dict(data)
            reason = values.pop("reason", "")
            if trigger == "accept_assignment":
                declare(users["assessor"], request, has_conflict=False, description="", now=moment)
            if trigger == "prioritise":  # a decision on the merits needs every criterion scored
                scores = dict.fromkeys(CRITERIA, (2, "Scored on the dossier."))
                save_scores(users["agency"], request, scores, moment)
            fire(request, trigger, users[role], moment, reason=reason, **values)
        return request.id

    # --- What the database says ---

    def request_row(self, request_id: int) -> dict:
        with self.app.app_context():
            request = db.session.get(DeviceRequest, request_id)
            values = {
                "state": request.state,
                "version": request.version,
                "assigned_body_id": request.assigned_body_id,
            }
            db.session.remove()
            return values

    def audit_entries(self, request_id: int, action: str | None = None) -> list[dict]:
        with self.app.app_context():
            query = select(AuditEntry).where(AuditEntry.request_id == request_id)
            if action:
                query = query.where(AuditEntry.action == action)
            rows = [
                {
                    "action": e.action,
                    "entity_type": e.entity_type,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "data": e.data,
                    "seq": e.seq,
                }
                for e in db.session.scalars(query.order_by(AuditEntry.seq))
            ]
            db.session.remove()
            return rows

    def consistency_problems(self, request_ids) -> list[str]:
        """Each request's state must be the last state its audit trail moved it to, and its one
        open stage record must be in that state."""
        problems = []
        with self.app.app_context():
            for request_id in request_ids:
                request = db.session.get(DeviceRequest, request_id)
                last = db.session.scalars(
                    select(AuditEntry)
                    .where(
                        AuditEntry.entity_type == "request",
                        AuditEntry.entity_id == request_id,
                        AuditEntry.to_state.is_not(None),
                    )
                    .order_by(AuditEntry.seq.desc())
                    .limit(1)
                ).first()
                audited = last.to_state if last is not None else "draft"
                if audited != request.state:
                    problems.append(f"request {request_id}: {request.state}, audit {audited}")
                open_states = db.session.scalars(
                    select(StageRecord.state).where(
                        StageRecord.request_id == request_id, StageRecord.left_at.is_(None)
                    )
                ).all()
                if request.state != "draft" and open_states != [request.state]:
                    problems.append(f"request {request_id}: {request.state}, open {open_states}")
            db.session.remove()
        return problems

    def count(self, model, **where) -> int:
        with self.app.app_context():
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            value = db.session.scalar(query)
            db.session.remove()
            return value


def _steps_to(state: str, people: People) -> list[tuple[str, str, dict]]:
    """(trigger, role, data) from a complete draft with its documents to `state`."""
    m, a, r = "manufacturer", "agency", "assessor"
    submitted = [("submit", m, {})]
    admitted = [*submitted, ("admit", a, {})]
    prioritising = [*admitted, ("start_prioritisation", a, {})]
    assigning = [*prioritising, ("prioritise", a, {"reason": "High unmet need."})]
    assessing = [
        *assigning,
        ("assign_body", a, {"regional_body": people.bodies[0]}),
        ("accept_assignment", r, {}),
    ]
    paths = {
        "intake_review": submitted,
        "awaiting_prioritisation": admitted,
        "prioritisation": prioritising,
        "assignment": assigning,
        "assessment": assessing,
        "information_requested": [
            *assessing,
            ("request_information", r, {"questions": ["Follow-up data?"]}),
        ],
    }
    return paths[state]
