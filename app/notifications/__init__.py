"""Notifications: the outbox written with each event, the in-app inbox (`/inbox`, the bell),
email delivery (`flask notify run`) and reminders (`flask deadlines check`)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates")

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = ("app.notifications.views",)


def init_app(app) -> None:
    """The bell: `unread_notification_count()` in templates (one COUNT, when called)."""
    from flask_login import current_user

    from app.notifications.inbox import unread_count

    def unread_notification_count() -> int:
        if not current_user.is_authenticated:
            return 0
        return unread_count(current_user)

    app.add_template_global(unread_notification_count)
