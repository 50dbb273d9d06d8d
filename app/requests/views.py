"""Request views (placeholder until the dossier work lands)."""

from app.requests import bp


@bp.get("/")
def index():
    return "requests"


@bp.route("/new", methods=["GET", "POST"])
def new():
    return "new"


@bp.get("/<int:request_id>")
def detail(request_id: int):
    return "detail"
