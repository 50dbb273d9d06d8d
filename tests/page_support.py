"""Shared by the page tests: posting a workflow action's form as the page does."""

from __future__ import annotations

from app.extensions import db
from app.models import Adoption, Reimbursement

AREAS = {Adoption: "adoptions", Reimbursement: "reimbursements"}


def action_url(target, trigger: str) -> str:
    """The URL an action form of a request, an adoption record or a reimbursement case
    posts to."""
    area = AREAS.get(type(target), "requests")
    return f"/{area}/{target.id}/actions/{trigger}"


def post_action(client, target, trigger: str, version=None, **fields):
    """Post the form of `trigger` on `target` (a request or an adoption record): the version
    the form was shown with (default: the current one) and the action's fields."""
    db.session.refresh(target)
    data = {f"{trigger}-expected_version": str(target.version if version is None else version)}
    data |= {f"{trigger}-{name}": value for name, value in fields.items()}
    return client.post(action_url(target, trigger), data=data)
