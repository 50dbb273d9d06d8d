"""The app served with the demo data, for the accessibility checks and the screenshots.

`demo_app(folder)` builds the app on a fresh SQLite file in `folder` (CSRF on, as in
production) and loads `flask seed-demo`'s data (every request and adoption state, through the
workflow); `serving(app)` (tests/browser_support.py) serves it. `log_in_demo(page, email)`
logs a demo user in through the login form, typing the second-factor code for the roles that
need one. `DEMO_PEOPLE`: the printed demo logins, one per role.
"""

from __future__ import annotations

from pathlib import Path

from app import create_app
from app.accounts.second_factor import code_at
from app.demo import catalogue
from app.demo.data import demo_totp_secret, seed_demo
from app.extensions import db
from app.models import types as model_types
from app.models.schema_extras import install_schema_extras

# role -> (email, password)
DEMO_PEOPLE = {role: (email, password) for email, password, role, _, _ in catalogue.DEMO_LOGINS}


def demo_app(folder: Path, copies: int = 1):
    """The app on its own SQLite file under `folder`, with the demo data loaded."""
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}",
            "INSTANCE_DIR": str(folder / "instance"),
            "WTF_CSRF_ENABLED": True,
        },
    )
    with app.app_context():
        db.create_all()
        install_schema_extras(db.session.connection())
        seed_demo(model_types.utcnow(), copies=copies)
        db.session.commit()
        db.session.remove()
    return app


def log_in_demo(page, role: str) -> None:
    """Log the demo user of `role` in through the login form (and the second-factor form)."""
    email, password = DEMO_PEOPLE[role]
    page.goto("/auth/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('main form button[type="submit"]')
    page.wait_for_url(lambda url: "/auth/login" not in url)
    if page.url.endswith("/auth/two-factor"):
        page.fill('input[name="code"]', code_at(demo_totp_secret(email), model_types.utcnow()))
        page.click('main form button[type="submit"]')
        page.wait_for_url(lambda url: "/auth/two-factor" not in url)
