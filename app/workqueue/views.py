"""Work queue views (placeholder until the workflow work lands)."""

from app.workqueue import bp


@bp.get("/")
def queue():
    return "queue"


@bp.get("/workflow")
def workflow_diagram():
    return "workflow"
