"""Auth views (placeholder until the auth work lands)."""

from app.auth import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    return "login"


@bp.post("/logout")
def logout():
    return "logout"


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    return "password"
