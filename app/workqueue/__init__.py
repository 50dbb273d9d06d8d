"""Work queues ("what needs my action") and the workflow diagram."""

from flask import Blueprint

bp = Blueprint("workqueue", __name__, template_folder="templates")

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = ("app.workqueue.views",)
