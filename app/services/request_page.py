"""What the request page shows beyond the dossier: workflow actions, timeline, audit trail.

Placeholder until the workflow work lands; the request detail view merges this context.
"""

from __future__ import annotations


def workflow_panel_context(actor, request) -> dict:
    return {}
