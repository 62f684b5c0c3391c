"""Waiting approvals (core/domain/approvals.py): the subjects waiting now, one wait row per
subject, and the leases that let many workers fire each reminder once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.domain.approvals import BATCH_STAGES, CLAIM_STAGES, ApprovalWait, WaitKind
from core.domain.batches import ContributionBatch
from core.domain.claims import Claim
from core.domain.errors import NotFound
from core.domain.escalation import StepState
from core.persistence import tables as t
from core.persistence.leases import claim_due, hold, release

_LIVE = (StepState.PENDING, StepState.FIRED)


class ApprovalWaitRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def waiting_batches(self) -> Sequence[ContributionBatch]:
        query = select(ContributionBatch).where(t.batches.c.state.in_(list(BATCH_STAGES)))
        return self.session.scalars(query.order_by(t.batches.c.id)).all()

    def waiting_claims(self) -> Sequence[Claim]:
        query = select(Claim).where(t.claims.c.state.in_(list(CLAIM_STAGES)))
        return self.session.scalars(query.order_by(t.claims.c.id)).all()

    def all(self) -> Sequence[ApprovalWait]:
        return self.session.scalars(select(ApprovalWait)).all()

    def live(self) -> Sequence[ApprovalWait]:
        """Waits still reminding or overdue (the ones to end when their subject is decided)."""
        query = select(ApprovalWait).where(t.approval_waits.c.state.in_(_LIVE))
        return self.session.scalars(query).all()

    def get(self, wait_id: int) -> ApprovalWait:
        found = self.session.get(ApprovalWait, wait_id)
        if found is None:
            raise NotFound(f"no approval wait {wait_id}", kind="approval_wait")
        return found

    def start(self, wait: ApprovalWait) -> bool:
        """Add the wait unless its subject has one (another worker may be adding it now)."""
        values = {
            "subject_kind": str(wait.subject_kind),
            "subject_id": wait.subject_id,
            "stage": wait.stage,
            "since": wait.since,
            "deadline_at": wait.deadline_at,
            "due_at": wait.due_at,
            "reminded": 0,
            "state": wait.state,
        }
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(t.approval_waits).values(**values).on_conflict_do_nothing()
        return self.session.execute(statement.returning(t.approval_waits.c.id)).first() is not None

    def for_subject(self, kind: WaitKind, subject_id: int) -> ApprovalWait | None:
        query = select(ApprovalWait).where(
            t.approval_waits.c.subject_kind == str(kind),
            t.approval_waits.c.subject_id == subject_id,
        )
        return self.session.scalars(query).first()

    def claim_due(self, now: datetime, owner: str, lease: timedelta, limit: int = 200) -> list[int]:
        table = t.approval_waits
        due = (table.c.state == StepState.PENDING) & (table.c.due_at <= now)
        return claim_due(
            self.session, table, due, [table.c.due_at, table.c.id], owner, now, lease, limit
        )

    def hold(self, wait_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        return hold(self.session, t.approval_waits, wait_id, owner, now, lease)

    def release(self, wait_ids: list[int], owner: str) -> None:
        release(self.session, t.approval_waits, wait_ids, owner)
