"""Test data factories: plain functions that add rows and flush (the test owns the commit)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from app.accounts.passwords import hash_password
from app.accounts.second_factor import new_secret
from app.models import AuditEntry, Comparator, DeviceRequest, EvidenceItem, Organisation, User

DEFAULT_PASSWORD = "correct horse battery"

_counter = itertools.count(1)

# Valid sample identifiers (checked by python-stdnum in the dossier validation).
VALID_VAT = "IT00743110157"
VALID_GTIN = "08001234567897"

# Users of these roles must log in with a second factor (config SECOND_FACTOR_REQUIRED_ROLES):
# the factory enrols them, and the `login` fixture types their current code.
SECOND_FACTOR_ROLES = ("admin", "agency", "assessor")

ORG_KIND_FOR_ROLE = {
    "manufacturer": "manufacturer",
    "agency": "agency",
    "assessor": "regional_body",
    "irccs": "irccs",
}


class Factories:
    def __init__(self, session):
        self.session = session
        self._password_hash: str | None = None

    def org(self, kind: str = "manufacturer", **fields) -> Organisation:
        n = next(_counter)
        defaults = {"name": f"{kind.title()} {n}", "kind": kind}
        if kind in ("regional_body", "irccs"):
            defaults["region"] = "lombardia"
        if kind == "manufacturer":
            defaults["vat_number"] = VALID_VAT
        org = Organisation(**(defaults | fields))
        self.session.add(org)
        self.session.flush()
        return org

    def user(
        self,
        role: str = "manufacturer",
        organisation: Organisation | None = None,
        second_factor: bool | None = None,
        **fields,
    ):
        """A user; with a second factor (TOTP) when `second_factor`, by default when the role
        requires one."""
        n = next(_counter)
        if organisation is None and role != "admin":
            organisation = self.org(ORG_KIND_FOR_ROLE[role])
        if self._password_hash is None:
            self._password_hash = hash_password(DEFAULT_PASSWORD)
        defaults = {
            "email": f"user{n}@example.org",
            "full_name": f"{role.title()} User {n}",
            "password_hash": self._password_hash,
            "role": role,
            "organisation": organisation,
            # Tests read the English source strings; Italian has tests of its own.
            "language": "en",
        }
        if second_factor or (second_factor is None and role in SECOND_FACTOR_ROLES):
            defaults |= {
                "totp_secret": new_secret(),
                "totp_enabled_at": datetime(2026, 1, 1, tzinfo=UTC),
            }
        user = User(**(defaults | fields))
        self.session.add(user)
        self.session.flush()
        return user

    def request(self, manufacturer: Organisation | None = None, complete: bool = False, **fields):
        """A draft request; `complete=True` fills every field the submission needs."""
        if manufacturer is None:
            manufacturer = self.org("manufacturer")
        values = {"manufacturer": manufacturer, "trade_name": f"Device {next(_counter)}"}
        if complete:
            values |= complete_dossier_fields()
        request = DeviceRequest(**(values | fields))
        if complete and not fields.get("comparators"):
            request.comparators = [Comparator(position=1, description="Standard surgical care")]
        if complete and not fields.get("evidence"):
            request.evidence = [
                EvidenceItem(
                    position=1,
                    design="rct",
                    patients=120,
                    follow_up_months=12,
                    reference="Rossi et al. 2024, Lancet",
                )
            ]
        self.session.add(request)
        self.session.flush()
        return request


def complete_dossier_fields() -> dict:
    return {
        "trade_name": "CardioValve X",
        "model": "CVX-23",
        "intended_purpose": "Transcatheter replacement of the aortic valve.",
        "regulation": "mdr",
        "risk_class": "III",
        "basic_udi_di": "8001234CVX23MG",
        "udi_di": VALID_GTIN,
        "emdn_code": "P0703",
        "repertorio_number": "1234567",
        "notified_body_number": "0123",
        "ce_certificate_number": "CE-2024-001",
        "ce_certificate_issued_on": date(2024, 1, 15),
        "ce_certificate_expires_on": date(2029, 1, 14),
        "is_implantable": True,
        "condition": "Severe aortic stenosis",
        "severity": "severe",
        "population": "Adults at high surgical risk",
        "eligible_patients_per_year": 4000,
        "intervention": "Transcatheter valve implantation",
        "care_setting": "inpatient",
        "outcomes": "All-cause mortality at 1 year; stroke",
        "claimed_benefits": "Lower mortality than surgery in high-risk patients",
        "unmet_need": "Patients unfit for open surgery",
        "list_price": Decimal("18500.00"),
        "acquisition_cost": Decimal("18500.00"),
        "running_costs_per_year": Decimal("1200.00"),
        "budget_impact_3y": Decimal("2500000.00"),
        "expected_volume_per_year": 150,
        "consent_to_publication": True,
        "coi_declared": True,
        "coi_declaration": "No conflicts.",
    }


def audit_entry(action: str, *, data=None, changes=None, **fields) -> AuditEntry:
    """An audit entry of request 1 by the system, not stored: for tests of how entries read."""
    return AuditEntry(
        seq=1,
        occurred_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        actor_id=None,
        actor_name="system",
        actor_role="agency",
        entity_type="request",
        entity_id=1,
        action=action,
        data=data or {},
        changes=changes or {},
        **fields,
    )
