"""Admin views (placeholder until the admin work lands)."""

from app.admin import bp


@bp.get("/users")
def users():
    return "users"


@bp.get("/organisations")
def organisations():
    return "organisations"


@bp.get("/deadlines")
def deadlines():
    return "deadlines"
