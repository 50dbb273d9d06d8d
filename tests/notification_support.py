"""Shared by the notification tests: the `notification_hooks_only` fixture (fire with the
notification hooks and none of the other areas'), reading what was written, a confidential
marker planted in a request, and a real SMTP server on a loopback port (aiosmtpd)."""

from __future__ import annotations

import socket
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from app.core import transition_hooks
from app.extensions import db
from app.models import Notification
from app.notifications import hooks as notification_hooks

MARKER = "ZZSECRET42"


@pytest.fixture
def notification_hooks_only(monkeypatch):
    """Run `fire` with only the notification hooks and the kernel's guards (the other areas
    test their own)."""
    from tests.workflow_support import keep_only_guards_of

    transition_hooks.load_hook_modules()
    keep_only_guards_of(monkeypatch, ("app.core.guards",))
    monkeypatch.setattr(transition_hooks, "_before", defaultdict(list))
    monkeypatch.setattr(transition_hooks, "_after", defaultdict(list))
    for workflow, triggers in (("request", notification_hooks.NOTIFYING_TRIGGERS),):
        transition_hooks.after(workflow, *triggers)(notification_hooks.notify_transition)


def notifications(**where) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.scalars(query))


def kinds_of(user) -> list[str]:
    return [n.kind for n in notifications(user_id=user.id)]


def plant_marker(request) -> None:
    """Put the marker in every free-text and confidential-capable field of the dossier, and
    mark them all confidential."""
    from app.domain.dossier_fields import CONFIDENTIAL_CAPABLE_FIELDS

    for name in ("intended_purpose", "claimed_benefits", "condition", "population", "outcomes"):
        setattr(request, name, f"{MARKER} {name}")
    request.list_price = Decimal("424242.42")
    request.budget_impact_3y = Decimal("4242424.24")
    request.confidential_fields = list(CONFIDENTIAL_CAPABLE_FIELDS)
    db.session.flush()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the test SMTP server received: (envelope recipients, parsed message)."""

    mails: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for rcpts, message in self.mails if address in rcpts]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port: yields (host, port, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, inbox
    finally:
        controller.stop()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()
