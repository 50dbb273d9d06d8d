"""Work queues ("what needs my action") and the workflow diagram."""

from flask import Blueprint

bp = Blueprint("workqueue", __name__, template_folder="templates")

from app.workqueue import views  # noqa: E402, F401
