"""The demo data: `flask seed-demo` (cli.py) loads organisations, one user per role and
requests in every state taking every transition (data.py), from a catalogue of realistic
devices (catalogue.py); what people say along the way (exchanges.py: conflicts of interest,
factual-accuracy and consultation comments), the IRCCS's adoption, procurement and usage
(adoptions.py), needs, reuse and evidence milestones (needs.py, reuse.py, milestones.py)."""
