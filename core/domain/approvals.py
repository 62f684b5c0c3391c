"""Waiting approvals: which states of a batch or claim wait for someone's tap, and the timer row
that reminds that person and, past the wait's own deadline, opens an alert.

A batch waits for HR's check while it is a draft and for finance's approval while it is
``finance_pending``; a claim waits for finance's decision while it is under review. Each wait
is one row per subject: ``since`` when the wait began, ``due_at`` the next reminder, and
``deadline_at`` when the wait is overdue and becomes an alert that escalates along the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.domain.batches import BatchState
from core.domain.claims import ClaimState
from core.domain.contributions import DelayReason
from core.domain.directory import Role
from core.domain.escalation import StepState, SubjectKind


class WaitKind(StrEnum):
    BATCH = "batch"
    CLAIM = "claim"


@dataclass(frozen=True)
class Stage:
    """What a subject in this state waits for: whose tap, and what an overdue wait is blamed on."""

    role: Role
    cause: DelayReason | None


BATCH_STAGES = {
    BatchState.DRAFT: Stage(Role.HR, DelayReason.HR_VERIFICATION),
    BatchState.FINANCE_PENDING: Stage(Role.FINANCE, DelayReason.FINANCE_APPROVAL),
}
CLAIM_STAGES = {ClaimState.UNDER_REVIEW: Stage(Role.FINANCE, None)}

ALERT_SUBJECT = {
    WaitKind.BATCH: SubjectKind.BATCH_APPROVAL,
    WaitKind.CLAIM: SubjectKind.CLAIM_APPROVAL,
}


@dataclass(eq=False)
class ApprovalWait:
    subject_kind: WaitKind
    subject_id: int
    stage: str
    """The waiting state, with the batch's version: a rebuilt roster is a new wait."""
    since: datetime
    deadline_at: datetime
    due_at: datetime
    reminded: int = 0
    alert_id: int | None = None
    state: StepState = StepState.PENDING
    fired_at: datetime | None = None
    note: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    id: int = field(init=False)

    def restart(self, stage: str, since: datetime, due_at: datetime, deadline_at: datetime) -> None:
        """The subject waits again (another stage, or again after a decision was undone)."""
        self.stage, self.since, self.due_at, self.deadline_at = stage, since, due_at, deadline_at
        self.reminded, self.alert_id, self.state = 0, None, StepState.PENDING
        self.fired_at = self.note = None

    def overdue(self, now: datetime) -> bool:
        return now >= self.deadline_at
