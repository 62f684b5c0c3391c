"""Named domain errors: each one is a message a person can act on, never a stack trace."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose.

    ``code`` is a stable message key the outer layers translate; ``params`` fill it in.
    """

    code = "error.domain"

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.params = params


class InvalidValue(DomainError):
    code = "error.invalid_value"


class NotFound(DomainError):
    code = "error.not_found"


class IllegalTransition(DomainError):
    code = "error.illegal_transition"


class PermissionDenied(DomainError):
    code = "error.permission_denied"


class DocumentRejected(DomainError):
    code = "error.document_rejected"


class ClaimIncomplete(DomainError):
    code = "error.claim_incomplete"


class ConfirmationRequired(DomainError):
    """A large amount: the same action must be confirmed a second time before it counts."""

    code = "error.confirmation_required"
