"""The request page's templates only render: no SQL statement runs while any of them renders
(every panel's data comes from the view's presenters), for requests in every state seen by
each party. A statement here is a template calling a service or reading a lazy relationship:
what made the page's CPU grow with the history shown."""

from __future__ import annotations

from sqlalchemy import select

from app.demo.catalogue import DEMO_LOGINS
from app.extensions import db
from app.models import DeviceRequest, User
from tests.statement_support import statements_while_rendering


def _demo_clients(app, login) -> dict[str, object]:
    """A client logged in as each demo login (one per role; the demo's passwords)."""
    clients = {}
    for email, password, role, _org, _name in DEMO_LOGINS:
        user = db.session.scalar(select(User).where(User.email == email))
        client = app.test_client()
        login(user, password, test_client=client)
        clients[role] = client
    return clients


def _one_request_per_state() -> list[int]:
    by_state: dict[str, int] = {}
    for request_id, state in db.session.execute(
        select(DeviceRequest.id, DeviceRequest.state).order_by(DeviceRequest.id)
    ):
        by_state.setdefault(state, request_id)
    return list(by_state.values())


def test_no_statement_runs_while_the_request_page_renders(app, runner, login):
    assert runner.invoke(args=["seed-demo", "--copies", "1"]).exit_code == 0
    request_ids = _one_request_per_state()
    seen: dict[str, int] = {}
    for party, client in _demo_clients(app, login).items():
        for request_id in request_ids:
            db.session.remove()
            with statements_while_rendering(app) as statements:
                response = client.get(f"/requests/{request_id}")
            if response.status_code in (302, 404):  # not a party, or must declare first
                continue
            assert response.status_code == 200, (party, request_id)
            import os

            if os.environ.get("DEBUG_RENDER"):
                for t, s in statements:
                    print("STMT", party, t, s[:160])
                statements.clear()
            assert statements == [], (party, request_id, statements)
            seen[party] = seen.get(party, 0) + 1
    assert {"agency", "manufacturer", "assessor", "irccs"} <= seen.keys()
    assert sum(seen.values()) > 30


def test_the_hook_catches_a_query_in_a_template(app):
    """The check itself: a template that queries is caught."""
    from flask import render_template_string

    with app.test_request_context(), statements_while_rendering(app) as statements:
        render_template_string("{{ count() }}", count=lambda: db.session.scalar(select(User.id)))
    assert len(statements) == 1 and "users" in statements[0][1]
