"""The demo data: `flask seed-demo` (cli.py) loads organisations, one user per role and
requests in every state (data.py), from a catalogue of realistic devices (catalogue.py)."""
