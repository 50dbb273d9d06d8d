"""Administration: users, organisations, configuration."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import views  # noqa: E402, F401
