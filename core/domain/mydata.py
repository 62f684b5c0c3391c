"""An employee's export of their own data (/mydata, PIPL's right to access and copy).

The export is about the person who asks and nobody else: their profile (the ID number whole,
since the file goes only to them), contributions, claims with their documents, consent answers,
questions to HR and the audit rows about them. Other people appear in none of it: audit rows
say ``you``, ``staff`` or ``system`` for who acted, and their details keep only the keys listed
in :data:`AUDIT_DETAIL_KEYS` (never, say, the employee number of a stand-in).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.domain.audit import SYSTEM
from core.domain.errors import DomainError

FORMAT = "hrbot-mydata-1"
AUDIT_DETAIL_KEYS = frozenset(
    {
        "amount",
        "claim_type",
        "claims",
        "columns",
        "content_type",
        "count",
        "documents",
        "document_id",
        "kind",
        "months",
        "notice_version",
        "reason",
        "reference",
        "refused_action",
        "retention_days",
        "size",
        "status",
    }
)


class ExportTooSoon(DomainError):
    """An export was made less than the allowed interval ago (``next_at``: when one may)."""

    code = "error.export_too_soon"


def next_export_at(last: datetime | None, every: timedelta) -> datetime | None:
    """When the next export is allowed; None when one is allowed now (or never made)."""
    return None if last is None else last + every


def who_acted(actor_id: int | None, me: int) -> str:
    """``you``, ``system`` (no person acted) or ``staff``: never another person's name or number."""
    if actor_id is None:
        return SYSTEM
    return "you" if actor_id == me else "staff"


def audit_entry(
    at: datetime,
    action: str,
    subject: tuple[str, int],
    actor_id: int | None,
    states: tuple[str | None, str | None],
    channel: str | None,
    detail: dict[str, Any],
    me: int,
) -> dict[str, Any]:
    """One audit row as the export shows it."""
    return {
        "at": at,
        "action": action,
        "subject": f"{subject[0]}:{subject[1]}",
        "by": who_acted(actor_id, me),
        "channel": channel,
        "from_state": states[0],
        "to_state": states[1],
        "detail": {k: v for k, v in sorted(detail.items()) if k in AUDIT_DETAIL_KEYS},
    }


def document_path(claim_reference: str, document_id: int, kind: str, content_type: str) -> str:
    """Where a claim document sits inside the zip: a safe name made from ids, never the
    uploaded file name (which may hold anything)."""
    extension = {
        "application/pdf": ".pdf",
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/heic": ".heic",
        "image/webp": ".webp",
    }.get(content_type, ".bin")
    return f"documents/{claim_reference}/{document_id}-{kind}{extension}"
