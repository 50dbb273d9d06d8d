"""Accounts: logging in and out, passwords, personal API tokens, and the administrator's
account use cases (operations.py) and CLI (cli.py).

`auth_bp` ("auth", under /auth): login, logout, password change.
`bp` ("account", under /account): the user's own settings (security: the second factor;
personal API tokens, created only from a session that passed the second factor).
"""

from flask import Blueprint

auth_bp = Blueprint("auth", __name__, template_folder="templates")
bp = Blueprint("account", __name__)

from app.accounts import auth_views, security_views, token_views  # noqa: E402, F401
