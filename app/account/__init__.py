"""The user's own account settings: personal API tokens."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from app.account import views  # noqa: E402, F401
