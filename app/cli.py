"""Registers the `flask ...` commands of every feature: each module listed here exposes
`COMMANDS`, a list of click commands or groups."""

from __future__ import annotations

import importlib

from flask import Flask

CLI_MODULES = (
    "app.accounts.cli",  # create-admin, users
    "app.core.cli",  # audit verify
    "app.demo.cli",  # seed-demo
    "app.notifications.cli",  # notify run
    "app.documents.cli",  # documents migrate
    "app.ops.cli",  # backup create, verify, restore
    "app.reports_pages.cli",  # report exports
    "app.workqueue.cli",  # deadlines check
)


def register_cli(app: Flask) -> None:
    for name in CLI_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            app.cli.add_command(command)
