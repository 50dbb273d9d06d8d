"""The public transparency register and the public consultation (no login needed), plus the
agency's consultation moderation pages."""

from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="templates")

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = (
    "app.public.moderation",
    "app.public.views",
)
