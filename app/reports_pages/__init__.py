"""Report pages and downloads: timing, adoption, and the per-request record (url /reports)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates")

from app.reports_pages import views  # noqa: E402, F401
