"""The append-only audit trail: who did what, when, through which channel, from which state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SYSTEM = "system"


@dataclass(eq=False)
class AuditEntry:
    at: datetime
    action: str
    subject_kind: str
    subject_id: int
    actor_id: int | None = None
    actor: str = SYSTEM
    channel: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int = field(init=False)
    # The hash chain (core/domain/audit_chain.py), set when the row is committed.
    seq: int = field(init=False)
    prev_hash: str = field(init=False)
    row_hash: str = field(init=False)
