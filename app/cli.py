"""Registers the `flask ...` commands of every area."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask

import app.commands as commands_package


def register_cli(app: Flask) -> None:
    """Each module in app/commands exposes `COMMANDS`, a list of click commands or groups."""
    for module_info in pkgutil.iter_modules(commands_package.__path__):
        module = importlib.import_module(f"{commands_package.__name__}.{module_info.name}")
        for command in getattr(module, "COMMANDS", ()):
            app.cli.add_command(command)
