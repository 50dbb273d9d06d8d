"""The public transparency register and the public consultation (no login needed), plus the
agency's consultation moderation pages."""

from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="templates")

from app.public import moderation, views  # noqa: E402, F401
