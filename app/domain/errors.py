"""Domain errors. Services raise these; views and the API translate them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; `message` is a user-facing sentence (translated by the caller)."""

    http_status = 400

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The object does not exist *or the actor may not see it* (never reveal which)."""

    http_status = 404


class PermissionDenied(DomainError):
    """The actor can see the object but may not do this to it."""

    http_status = 403


class Conflict(DomainError):
    """Someone else changed the object first (optimistic lock, duplicate fire)."""

    http_status = 409


class InvalidTransition(DomainError):
    """The trigger cannot fire from the object's current state."""

    http_status = 409


class GuardFailed(DomainError):
    """A condition of the transition is not met (e.g. the dossier is incomplete)."""

    http_status = 422


class ValidationFailed(DomainError):
    """Input data is invalid; `details['fields']` maps field names to messages."""

    http_status = 422
