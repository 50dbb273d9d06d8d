"""Use cases: load, check permission, fire, write the audit entry, flush. Never commit.

Views and CLI commands own the transaction: they call a service and commit once.
"""
