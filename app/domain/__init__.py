"""Pure domain rules: no Flask, no SQLAlchemy. Everything here takes its inputs (and `now`)."""
