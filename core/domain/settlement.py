"""Settlement jobs: the calls hrbot makes to the bureau and the bank, queued like the outbox.

Approving a batch (or a claim) queues a job in the same transaction; a worker leases it, calls
the gateway outside any transaction with the job's idempotency key, and records the answer. A
crash between the call and the record is safe: the next attempt repeats the same key and the far
side answers with its first receipt instead of paying twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JobKind(StrEnum):
    BATCH_SUBMIT = "batch_submit"
    BATCH_PAY = "batch_pay"
    CLAIM_PAY = "claim_pay"


class JobState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(eq=False)
class SettlementJob:
    kind: JobKind
    subject_id: int
    idempotency_key: str
    created_at: datetime
    state: JobState = JobState.PENDING
    attempts: int = 0
    reference: str | None = None
    last_error: str | None = None
    finished_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    id: int = field(init=False)
