"""Report pages and downloads: timing, adoption, and the per-request record (url /reports)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates")

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = ("app.reports_pages.views",)
