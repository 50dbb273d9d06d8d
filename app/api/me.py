"""Who the token acts as: its user, role and organisation, and the token itself."""

from __future__ import annotations

from flask import g

from app.api import schema_types as t
from app.api.registry import actor, operation
from app.domain.vocab import OrgKind, Role
from app.extensions import db
from app.models import ApiToken

t.component(
    "Me",
    t.obj(
        {
            "user": t.obj(
                {
                    "id": t.ID,
                    "email": t.STRING,
                    "full_name": t.STRING,
                    "role": t.enum([r.value for r in Role]),
                    "language": t.STRING,
                }
            ),
            "organisation": t.nullable(
                t.obj(
                    {
                        "id": t.ID,
                        "name": t.STRING,
                        "kind": t.enum([k.value for k in OrgKind]),
                        "region": t.nullable(t.STRING),
                    }
                )
            ),
            "token": t.obj(
                {
                    "name": t.STRING,
                    "prefix": t.STRING,
                    "created_at": t.DATETIME,
                    "expires_at": t.nullable(t.DATETIME),
                    "last_used_at": t.nullable(t.DATETIME),
                }
            ),
        }
    ),
)


@operation("GET", "/me", tag="Account", summary="Who this token acts as", response="Me")
def whoami():
    """A quick check that a token works, and what it may do (its user's role)."""
    user = actor()
    token = db.session.get(ApiToken, g.api_token_id)
    organisation = user.organisation
    return {
        "user": {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "language": user.language,
        },
        "organisation": (
            {
                "id": organisation.id,
                "name": organisation.name,
                "kind": organisation.kind,
                "region": organisation.region,
            }
            if organisation is not None
            else None
        ),
        "token": {
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": token.last_used_at,
        },
    }
