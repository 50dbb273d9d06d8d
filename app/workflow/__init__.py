"""The state machines (declared as data) and `fire`, the only way a state changes.

No Flask, no SQLAlchemy here: the services wrap this layer in a database transaction.
"""
