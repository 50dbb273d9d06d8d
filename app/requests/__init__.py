"""The request dossier: list, create, edit, view."""

from flask import Blueprint

bp = Blueprint("requests", __name__)

from app.requests import views  # noqa: E402, F401
