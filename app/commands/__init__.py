"""CLI commands, one module per group; `register_cli` in app.cli adds them all."""
