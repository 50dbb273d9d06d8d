"""Notifications: the outbox written with each event, the in-app inbox (`/inbox`, the bell),
email delivery (`flask notify run`) and reminders (`flask deadlines check`)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates")

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = ("app.notifications.views",)


def init_app(app) -> None:
    """The bell: `unread_notifications` in every template's context (one COUNT per request,
    run by the context processor before the template renders, never while it renders)."""
    from flask import has_request_context, request
    from flask_login import current_user

    from app.notifications.inbox import unread_count

    @app.context_processor
    def unread_notifications() -> dict:
        if not has_request_context() or not current_user.is_authenticated:
            return {"unread_notifications": 0}
        # Kept on the request (not `g`, which a test's app context shares between requests).
        if "hta.unread_notifications" not in request.environ:
            request.environ["hta.unread_notifications"] = unread_count(current_user)
        return {"unread_notifications": request.environ["hta.unread_notifications"]}
