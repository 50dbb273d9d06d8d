"""The suite's one cast of users: an organisation and a user for each role around one request,
and the second parties that must be refused (the `cast` fixture, or `make_cast(make)`).

All of them read English (tests read the English source strings; Italian has tests of its
own). The rows are added with the `make` factories: a few INSERTs inside the test's
rolled-back transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models import Organisation, User


@dataclass
class Cast:
    """Everybody who might try to act on a request: the right parties and the wrong ones."""

    manufacturer_org: Organisation
    manufacturer: User
    other_manufacturer: User  # of another manufacturer
    agency: User
    admin: User
    body: Organisation  # the regional HTA body the request is assigned to (Lombardia)
    assessor: User
    colleague: User  # another assessor of the same body
    other_body: Organisation  # another region's body (Veneto)
    other_assessor: User
    irccs_org: Organisation
    irccs: User
    other_irccs_org: Organisation  # another region's IRCCS (Liguria)
    other_irccs: User

    def everyone(self) -> dict[str, User | None]:
        """Each party by name, and "system" (no user: the deadline check)."""
        return {
            "manufacturer": self.manufacturer,
            "other_manufacturer": self.other_manufacturer,
            "agency": self.agency,
            "assessor": self.assessor,
            "other_assessor": self.other_assessor,
            "irccs": self.irccs,
            "other_irccs": self.other_irccs,
            "admin": self.admin,
            "system": None,
        }


def make_cast(make, suffix: str = "") -> Cast:
    """The cast, added and flushed (the caller commits; the `cast` fixture does). A `suffix`
    to the organisations' names lets a test make a second cast beside the first."""
    manufacturer_org = make.org("manufacturer", name=f"Valvetech Srl{suffix}")
    body = make.org("regional_body", name=f"Lombardy HTA Unit{suffix}", region="lombardia")
    other_body = make.org("regional_body", name=f"Veneto HTA Unit{suffix}", region="veneto")
    irccs_org = make.org("irccs", name=f"IRCCS San Matteo{suffix}")
    other_irccs_org = make.org("irccs", name=f"IRCCS Gaslini{suffix}", region="liguria")
    cast = Cast(
        manufacturer_org=manufacturer_org,
        manufacturer=make.user("manufacturer", organisation=manufacturer_org),
        other_manufacturer=make.user("manufacturer"),
        agency=make.user("agency"),
        admin=make.user("admin"),
        body=body,
        assessor=make.user("assessor", organisation=body),
        colleague=make.user("assessor", organisation=body),
        other_body=other_body,
        other_assessor=make.user("assessor", organisation=other_body),
        irccs_org=irccs_org,
        irccs=make.user("irccs", organisation=irccs_org),
        other_irccs_org=other_irccs_org,
        other_irccs=make.user("irccs", organisation=other_irccs_org),
    )
    return cast
