"""Firing transitions: the only way a request or adoption record changes state.

INTERFACE (implemented by the workflow work; the screens code against these names):

fire(obj, trigger, actor, now, *, reason="", expected_version=None, ip=None, **data)
    obj is a DeviceRequest or an Adoption; actor a User or None for the system (lapses).
    Checks visibility (NotFound), the role and the object-level party (PermissionDenied),
    `expected_version` (Conflict), the transition from this state (InvalidTransition), guards
    (GuardFailed with the missing items), the data (ValidationFailed with field codes); moves the
    state; closes/opens StageRecord rows with due dates; sets side data (assigned body,
    recommendation, suspended_from, receipt number on submit, adoption records on a positive
    publish ...); writes one audit entry; bumps the version. Flushes; never commits. On any error
    the database and the in-memory object are as they were. Returns the AuditEntry.

available_transitions(actor, obj) -> list[TransitionSpec]
    What this actor may fire on this object now (same predicates as `fire`).

stage_timeline(request, now) -> list[StageRow]
    Each stage visit: state, entered_at, left_at, due_at, gross_days, net_days, clock_stopped,
    late (bool), for the request page and reports.
"""

from __future__ import annotations
