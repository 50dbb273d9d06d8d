"""Accounts: logging in and out, passwords, personal API tokens, and the administrator's
account use cases (operations.py) and CLI (cli.py).

`auth_bp` ("auth", under /auth): login, logout, password change.
`bp` ("account", under /account): the user's own settings (security: the second factor;
personal API tokens, created only from a session that passed the second factor).
"""

from flask import Blueprint

auth_bp = Blueprint("auth", __name__, template_folder="templates")
bp = Blueprint("account", __name__)


# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = (
    "app.accounts.auth_views",
    "app.accounts.security_views",
    "app.accounts.token_views",
)
