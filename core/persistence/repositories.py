"""Repositories: the queries the services need, named for what they answer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.domain.audit import AuditEntry
from core.domain.audit_chain import ChainHead, ChainRow
from core.domain.batches import BatchLine, BatchState, ContributionBatch
from core.domain.claims import Claim, ClaimDocument, ClaimState
from core.domain.contributions import ContributionRecord
from core.domain.conversations import ChatSession, Handoff, HandoffState, LinkCode
from core.domain.directory import (
    Assignment,
    Branch,
    Department,
    Employee,
    Responsibility,
    Role,
)
from core.domain.errors import NotFound
from core.domain.escalation import (
    Alert,
    AlertState,
    EscalationPolicy,
    EscalationStep,
    PolicyVersion,
    StepState,
)
from core.domain.notifications import DeliveryState, Notification
from core.domain.periods import Period
from core.domain.records import RecordDocument, RecordKind
from core.domain.reminders import Reminder
from core.domain.settlement import JobKind, JobState, SettlementJob
from core.persistence import audit_chain
from core.persistence import tables as t
from core.persistence.leases import claim_due, hold, release


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)


class DirectoryRepository(_Repository):
    def branch(self, branch_id: int) -> Branch:
        found = self.session.get(Branch, branch_id)
        if found is None:
            raise NotFound(f"no branch {branch_id}", kind="branch")
        return found

    def branch_by_code(self, code: str) -> Branch | None:
        return self.session.scalars(select(Branch).where(t.branches.c.code == code)).first()

    def branches(self) -> Sequence[Branch]:
        return self.session.scalars(select(Branch).order_by(t.branches.c.code)).all()

    def department(self, branch_id: int, name: str) -> Department | None:
        query = select(Department).where(
            t.departments.c.branch_id == branch_id, t.departments.c.name == name
        )
        return self.session.scalars(query).first()

    def employee(self, employee_id: int) -> Employee:
        found = self.session.get(Employee, employee_id)
        if found is None:
            raise NotFound(f"no employee {employee_id}", kind="employee")
        return found

    def employees(self, ids: Iterable[int]) -> dict[int, Employee]:
        """Many employees in one query, by id."""
        query = select(Employee).where(t.employees.c.id.in_(list(ids)))
        return {e.id: e for e in self.session.scalars(query)}

    def employee_by_no(self, employee_no: str) -> Employee | None:
        query = select(Employee).where(t.employees.c.employee_no == employee_no)
        return self.session.scalars(query).first()

    def employee_by_id_number(self, id_number: str) -> Employee | None:
        """Asked of the ID number's blind index: the column itself holds ciphertext."""
        from core.persistence.blind_index import matches

        query = select(Employee).where(matches(t.employees.c.id_number, id_number))
        return self.session.scalars(query).first()

    def employee_by_chat(self, platform: str, user_id: str) -> Employee | None:
        column = {"slack": t.employees.c.slack_user_id, "telegram": t.employees.c.telegram_user_id}
        if platform not in column:
            return None
        return self.session.scalars(select(Employee).where(column[platform] == user_id)).first()

    def employees_of_branch(self, branch_id: int) -> Sequence[Employee]:
        query = select(Employee).where(t.employees.c.branch_id == branch_id)
        return self.session.scalars(query.order_by(t.employees.c.employee_no)).all()

    def responsible(self, branch_id: int, role: Role) -> Sequence[Employee]:
        """Staff of ``role`` answering for the branch; else, for managers, the group's."""
        query = (
            select(Employee)
            .join(t.responsibilities, t.responsibilities.c.employee_id == t.employees.c.id)
            .where(t.responsibilities.c.branch_id == branch_id, t.employees.c.role == role)
            .where(t.employees.c.leave_date.is_(None))
            .order_by(t.employees.c.employee_no)
        )
        found = self.session.scalars(query).all()
        if found or role in (Role.HR, Role.FINANCE, Role.EMPLOYEE):
            return found
        return self.with_role(role)

    def branches_of(self, employee_id: int) -> set[int]:
        query = select(t.responsibilities.c.branch_id).where(
            t.responsibilities.c.employee_id == employee_id
        )
        return set(self.session.scalars(query).all())

    def employee_by_email(self, email: str) -> Employee | None:
        query = select(Employee).where(func.lower(t.employees.c.email) == email.strip().lower())
        return self.session.scalars(query).first()

    def with_role(self, role: Role) -> Sequence[Employee]:
        query = select(Employee).where(
            t.employees.c.role == role, t.employees.c.leave_date.is_(None)
        )
        return self.session.scalars(query.order_by(t.employees.c.employee_no)).all()

    def record_move(self, employee_id: int, branch_id: int, start: date) -> None:
        """Note that the employee belongs to ``branch_id`` from ``start`` (a hire or transfer)."""
        self.session.add(Assignment(employee_id=employee_id, branch_id=branch_id, start_date=start))

    def moves_of(self, employee_id: int) -> Sequence[Assignment]:
        query = select(Assignment).where(t.assignments.c.employee_id == employee_id)
        return self.session.scalars(query.order_by(t.assignments.c.start_date)).all()

    def assign(self, employee: Employee, branch: Branch) -> None:
        self.session.add(Responsibility(employee_id=employee.id, branch_id=branch.id))

    def count_employees(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(t.employees)) or 0)


class ContributionRepository(_Repository):
    def for_employee(
        self, employee_id: int, since: Period | None = None
    ) -> Sequence[ContributionRecord]:
        query = select(ContributionRecord).where(t.contributions.c.employee_id == employee_id)
        if since is not None:
            query = query.where(t.contributions.c.period >= since)
        return self.session.scalars(query.order_by(t.contributions.c.period)).all()

    def by_key(self, employee_id: int, period: Period) -> ContributionRecord | None:
        query = select(ContributionRecord).where(
            t.contributions.c.employee_id == employee_id, t.contributions.c.period == period
        )
        return self.session.scalars(query).first()

    def by_ids(self, ids: Iterable[int]) -> Sequence[ContributionRecord]:
        query = select(ContributionRecord).where(t.contributions.c.id.in_(list(ids)))
        return self.session.scalars(query).all()

    def for_branch(self, branch_id: int, period: Period) -> Sequence[ContributionRecord]:
        query = (
            select(ContributionRecord)
            .join(t.employees, t.employees.c.id == t.contributions.c.employee_id)
            .where(t.employees.c.branch_id == branch_id, t.contributions.c.period == period)
        )
        return self.session.scalars(query.order_by(t.contributions.c.employee_id)).all()


class BatchRepository(_Repository):
    def get(self, batch_id: int) -> ContributionBatch:
        found = self.session.get(ContributionBatch, batch_id)
        if found is None:
            raise NotFound(f"no batch {batch_id}", kind="batch")
        return found

    def latest(self, branch_id: int, period: Period) -> ContributionBatch | None:
        query = (
            select(ContributionBatch)
            .where(t.batches.c.branch_id == branch_id, t.batches.c.period == period)
            .order_by(t.batches.c.version.desc())
        )
        return self.session.scalars(query).first()

    def unpaid(self) -> Sequence[ContributionBatch]:
        """The latest version of every batch not yet paid (the ones with deadlines to watch)."""
        query = select(ContributionBatch).where(t.batches.c.state != BatchState.PAID)
        return self.session.scalars(query.order_by(t.batches.c.due_date, t.batches.c.id)).all()

    def create(self, branch_id: int, period: Period, due_date: date, now: datetime) -> int | None:
        """A new draft batch (version 1), unless one exists: another worker building the same
        month at this moment wins, and this call returns None instead of failing at commit."""
        values = {
            "branch_id": branch_id,
            "period": period,
            "version": 1,
            "state": BatchState.DRAFT,
            "due_date": due_date,
            "created_at": now,
            "total_base": Decimal("0"),
            "total_employer": Decimal("0"),
            "total_employee": Decimal("0"),
        }
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(t.batches).values(**values).on_conflict_do_nothing()
        return self.session.execute(statement.returning(t.batches.c.id)).scalar()

    def of_period(self, period: Period) -> dict[int, ContributionBatch]:
        """The latest batch of each branch for ``period``, by branch id."""
        query = select(ContributionBatch).where(t.batches.c.period == period)
        found: dict[int, ContributionBatch] = {}
        for batch in self.session.scalars(query.order_by(t.batches.c.version)):
            found[batch.branch_id] = batch
        return found

    def employee_ids(self, batch_id: int) -> list[int]:
        query = select(t.batch_lines.c.employee_id).where(t.batch_lines.c.batch_id == batch_id)
        return list(self.session.scalars(query.order_by(t.batch_lines.c.id)))

    def lines_outside(
        self, batch_id: int, low: Decimal | None, high: Decimal | None
    ) -> Sequence[str]:
        """Names of people whose base is outside the configured bounds."""
        lines = t.batch_lines
        outside = []
        if low is not None:
            outside.append(lines.c.base < low)
        if high is not None:
            outside.append(lines.c.base > high)
        if not outside:
            return []
        query = (
            select(t.employees.c.name)
            .join(lines, lines.c.employee_id == t.employees.c.id)
            .where(lines.c.batch_id == batch_id, or_(*outside))
            .order_by(t.employees.c.employee_no)
        )
        return self.session.scalars(query).all()

    def without_id_number(self, batch_id: int) -> Sequence[str]:
        lines = t.batch_lines
        query = (
            select(t.employees.c.name)
            .join(lines, lines.c.employee_id == t.employees.c.id)
            # "coalesce(…) = ''" rather than "IS NULL": SQLite would otherwise start from the
            # unique index on id_number and scan the batch's lines once per person without one.
            .where(lines.c.batch_id == batch_id, func.coalesce(t.employees.c.id_number, "") == "")
            .order_by(t.employees.c.employee_no)
        )
        return self.session.scalars(query).all()

    def budget(self, branch_id: int, period: Period) -> Decimal | None:
        query = select(t.budgets.c.amount).where(
            t.budgets.c.branch_id == branch_id, t.budgets.c.period == period
        )
        return self.session.scalar(query)

    def lines(self, batch_id: int) -> Sequence[BatchLine]:
        query = select(BatchLine).where(t.batch_lines.c.batch_id == batch_id)
        return self.session.scalars(query.order_by(t.batch_lines.c.id)).all()


class ClaimRepository(_Repository):
    def get(self, claim_id: int) -> Claim:
        found = self.session.get(Claim, claim_id)
        if found is None:
            raise NotFound(f"no claim {claim_id}", kind="claim")
        return found

    def document(self, document_id: int) -> ClaimDocument:
        found = self.session.get(ClaimDocument, document_id)
        if found is None:
            raise NotFound(f"no document {document_id}", kind="document")
        return found

    def documents(self, claim_id: int) -> Sequence[ClaimDocument]:
        query = select(ClaimDocument).where(t.claim_documents.c.claim_id == claim_id)
        return self.session.scalars(query.order_by(t.claim_documents.c.id)).all()

    def of_employee(self, employee_id: int) -> Sequence[Claim]:
        query = select(Claim).where(t.claims.c.employee_id == employee_id)
        return self.session.scalars(query.order_by(t.claims.c.id)).all()

    def in_state_for_branches(
        self, state: ClaimState, branch_ids: Iterable[int]
    ) -> Sequence[Claim]:
        """Claims in ``state`` of the branches' employees, in one query: by branch, employee
        number, claim id (the order a finance approver reads them in)."""
        people = t.employees
        query = (
            select(Claim)
            .join(people, people.c.id == t.claims.c.employee_id)
            .where(t.claims.c.state == state, people.c.branch_id.in_(list(branch_ids)))
            .order_by(people.c.branch_id, people.c.employee_no, t.claims.c.id)
        )
        return self.session.scalars(query).all()

    def held_for(self, employee_ids: Iterable[int]) -> Sequence[Claim]:
        query = select(Claim).where(
            t.claims.c.state == ClaimState.ON_HOLD, t.claims.c.employee_id.in_(list(employee_ids))
        )
        return self.session.scalars(query.order_by(t.claims.c.id)).all()


class AlertRepository(_Repository):
    def get(self, alert_id: int) -> Alert:
        found = self.session.get(Alert, alert_id)
        if found is None:
            raise NotFound(f"no alert {alert_id}", kind="alert")
        return found

    def unresolved_for(self, subject_kind: str, subject_id: int) -> Sequence[Alert]:
        query = select(Alert).where(
            t.alerts.c.subject_kind == subject_kind,
            t.alerts.c.subject_id == subject_id,
            t.alerts.c.state != AlertState.RESOLVED,
        )
        return self.session.scalars(query.order_by(t.alerts.c.id)).all()

    def unresolved(self) -> Sequence[Alert]:
        query = select(Alert).where(t.alerts.c.state != AlertState.RESOLVED)
        return self.session.scalars(query.order_by(t.alerts.c.id)).all()

    def step(self, step_id: int) -> EscalationStep | None:
        return self.session.get(EscalationStep, step_id)

    def steps(self, alert_id: int) -> Sequence[EscalationStep]:
        query = select(EscalationStep).where(t.escalation_steps.c.alert_id == alert_id)
        return self.session.scalars(
            query.order_by(t.escalation_steps.c.due_at, t.escalation_steps.c.id)
        ).all()

    def pending_steps(self, alert_id: int) -> list[EscalationStep]:
        return [s for s in self.steps(alert_id) if s.state is StepState.PENDING]

    def due_steps(self, now: datetime, limit: int = 500) -> Sequence[EscalationStep]:
        query = (
            select(EscalationStep)
            .where(
                t.escalation_steps.c.state == StepState.PENDING,
                t.escalation_steps.c.due_at <= now,
            )
            .order_by(t.escalation_steps.c.due_at, t.escalation_steps.c.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def claim_due_steps(
        self, now: datetime, owner: str, lease: timedelta, limit: int = 500
    ) -> list[int]:
        table = t.escalation_steps
        due = (table.c.state == StepState.PENDING) & (table.c.due_at <= now)
        return claim_due(
            self.session, table, due, [table.c.due_at, table.c.id], owner, now, lease, limit
        )

    def hold_step(self, step_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        return hold(self.session, t.escalation_steps, step_id, owner, now, lease)

    def release_steps(self, step_ids: list[int], owner: str) -> None:
        release(self.session, t.escalation_steps, step_ids, owner)

    def policy_version(self, policy: EscalationPolicy) -> int:
        """The stored version with this policy's levels and repeats, storing it as a new
        version if there is none."""
        p = t.escalation_policies.c
        rows = self.session.execute(
            select(p.version, p.levels, p.repeat, p.repeat_every).where(p.name == policy.name)
        ).all()
        wanted = (policy.levels_json(), policy.repeat, policy.repeat_text())
        for version, levels, repeat, every in rows:
            if (levels, repeat, every) == wanted:
                return int(version)
        version = max((int(v) for v, *_ in rows), default=0) + 1
        self.session.execute(
            t.escalation_policies.insert().values(
                name=policy.name,
                version=version,
                levels=wanted[0],
                repeat=policy.repeat,
                repeat_every=policy.repeat_text(),
            )
        )
        return version

    def policy(self, name: str, version: int) -> EscalationPolicy:
        p = t.escalation_policies.c
        row = self.session.execute(
            select(p.levels, p.repeat, p.repeat_every).where(p.name == name, p.version == version)
        ).first()
        if row is None:
            raise NotFound(f"no policy {name} v{version}", kind="policy")
        return EscalationPolicy.from_json(name, version, row.levels, row.repeat, row.repeat_every)

    def edited_policy(self, name: str) -> EscalationPolicy | None:
        """The latest version an admin wrote, if any: it overrides the settings' policy."""
        p = t.escalation_policies.c
        version = self.session.scalar(
            select(p.version)
            .where(p.name == name, p.edited_at.is_not(None))
            .order_by(p.version.desc())
            .limit(1)
        )
        return self.policy(name, version) if version is not None else None

    def save_edited_policy(
        self, policy: EscalationPolicy, now: datetime, by: str, note: str | None
    ) -> EscalationPolicy:
        """Store ``policy`` as a new version written by ``by``; alerts already open keep theirs."""
        p = t.escalation_policies.c
        latest = self.session.scalar(select(func.max(p.version)).where(p.name == policy.name))
        version = int(latest or 0) + 1
        self.session.execute(
            t.escalation_policies.insert().values(
                name=policy.name,
                version=version,
                levels=policy.levels_json(),
                repeat=policy.repeat,
                repeat_every=policy.repeat_text(),
                edited_at=now,
                edited_by=by,
                edit_note=note,
            )
        )
        return replace(policy, version=version)

    def policy_history(self, name: str) -> list[PolicyVersion]:
        p = t.escalation_policies.c
        rows = self.session.execute(
            select(p.version, p.levels, p.repeat, p.repeat_every, p.edited_at, p.edited_by)
            .add_columns(p.edit_note)
            .where(p.name == name)
            .order_by(p.version)
        ).all()
        counts: dict[int, int] = dict(
            self.session.execute(
                select(t.alerts.c.policy_version, func.count())
                .where(t.alerts.c.policy_name == name)
                .group_by(t.alerts.c.policy_version)
            ).all()
        )
        return [
            PolicyVersion(
                EscalationPolicy.from_json(name, r.version, r.levels, r.repeat, r.repeat_every),
                r.edited_at,
                r.edited_by,
                r.edit_note,
                int(counts.get(r.version, 0)),
            )
            for r in rows
        ]


class OutboxRepository(_Repository):
    def enqueue(self, notification: Notification) -> bool:
        """Add unless a notification with the same idempotency key exists; True if added."""
        exists = self.session.scalar(
            select(t.outbox.c.id).where(t.outbox.c.idempotency_key == notification.idempotency_key)
        )
        if exists is not None:
            return False
        self.session.add(notification)
        return True

    def existing_keys(self, keys: list[str]) -> set[str]:
        query = select(t.outbox.c.idempotency_key).where(t.outbox.c.idempotency_key.in_(keys))
        return set(self.session.scalars(query).all())

    def exists(self, idempotency_key: str) -> bool:
        query = select(t.outbox.c.id).where(t.outbox.c.idempotency_key == idempotency_key)
        return self.session.scalar(query) is not None

    def state_of(self, idempotency_key: str) -> DeliveryState | None:
        query = select(t.outbox.c.state).where(t.outbox.c.idempotency_key == idempotency_key)
        return self.session.scalar(query)

    def get(self, notification_id: int) -> Notification:
        found = self.session.get(Notification, notification_id)
        if found is None:
            raise NotFound(f"no notification {notification_id}", kind="notification")
        return found

    def due(self, now: datetime, limit: int = 100) -> Sequence[Notification]:
        query = (
            select(Notification)
            .where(t.outbox.c.state == DeliveryState.PENDING)
            .where((t.outbox.c.next_attempt_at.is_(None)) | (t.outbox.c.next_attempt_at <= now))
            .order_by(t.outbox.c.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def claim_due(self, now: datetime, owner: str, lease: timedelta, limit: int = 100) -> list[int]:
        table = t.outbox
        due = (table.c.state == DeliveryState.PENDING) & (
            table.c.next_attempt_at.is_(None) | (table.c.next_attempt_at <= now)
        )
        return claim_due(self.session, table, due, [table.c.id], owner, now, lease, limit)

    def hold(self, notification_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        return hold(self.session, t.outbox, notification_id, owner, now, lease)

    def release(self, notification_ids: list[int], owner: str) -> None:
        release(self.session, t.outbox, notification_ids, owner)

    def cards_about(self, subject_kind: str, subject_id: int) -> Sequence[Notification]:
        """Notices with buttons about one subject (claim, batch, alert), not updates themselves."""
        query = select(Notification).where(
            t.outbox.c.subject_kind == subject_kind,
            t.outbox.c.subject_id == subject_id,
            t.outbox.c.replaces_id.is_(None),
        )
        return [n for n in self.session.scalars(query.order_by(t.outbox.c.id)) if n.buttons]

    def depth(self) -> int:
        query = (
            select(func.count())
            .select_from(t.outbox)
            .where(t.outbox.c.state == DeliveryState.PENDING)
        )
        return int(self.session.scalar(query) or 0)

    def all(self) -> Sequence[Notification]:
        return self.session.scalars(select(Notification).order_by(t.outbox.c.id)).all()


class AuditRepository(_Repository):
    """Append-only: rows added here are sealed into the hash chain when the unit of work
    commits (``seal``), and never changed or removed."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._pending: list[AuditEntry] = []

    def add(self, obj: object) -> None:
        if not isinstance(obj, AuditEntry):
            raise TypeError(f"not an audit entry: {obj!r}")
        self._pending.append(obj)

    def seal(self) -> None:
        """Chain this transaction's rows onto the trail; the unit of work calls it on commit."""
        pending, self._pending = self._pending, []
        audit_chain.append(self.session, pending)

    def chain_head(self) -> ChainHead | None:
        return audit_chain.head(self.session)

    def chain_page(self, after_id: int, limit: int) -> list[ChainRow]:
        return audit_chain.page(self.session, after_id, limit)

    def count(self) -> int:
        return audit_chain.count(self.session)

    def for_subject(self, subject_kind: str, subject_id: int) -> Sequence[AuditEntry]:
        query = select(AuditEntry).where(
            t.audit_log.c.subject_kind == subject_kind, t.audit_log.c.subject_id == subject_id
        )
        return self.session.scalars(query.order_by(t.audit_log.c.id)).all()

    def all(self) -> Sequence[AuditEntry]:
        return self.session.scalars(select(AuditEntry).order_by(t.audit_log.c.id)).all()


class ReminderRepository(_Repository):
    def get(self, reminder_id: int) -> Reminder:
        found = self.session.get(Reminder, reminder_id)
        if found is None:
            raise NotFound(f"no reminder {reminder_id}", kind="reminder")
        return found

    def plan(self, reminder: Reminder) -> bool:
        """Add ``reminder`` unless its batch, kind and day are planned already, perhaps by another
        worker planning at this very moment; True if this call added it."""
        values = {
            "batch_id": reminder.batch_id,
            "kind": reminder.kind,
            "days_before": reminder.days_before,
            "due_at": reminder.due_at,
            "state": reminder.state,
        }
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(t.reminders).values(**values).on_conflict_do_nothing()
        return self.session.execute(statement.returning(t.reminders.c.id)).first() is not None

    def for_batch(self, batch_id: int) -> Sequence[Reminder]:
        query = select(Reminder).where(t.reminders.c.batch_id == batch_id)
        return self.session.scalars(query.order_by(t.reminders.c.due_at)).all()

    def claim_due(self, now: datetime, owner: str, lease: timedelta, limit: int = 200) -> list[int]:
        table = t.reminders
        due = (table.c.state == StepState.PENDING) & (table.c.due_at <= now)
        return claim_due(
            self.session, table, due, [table.c.due_at, table.c.id], owner, now, lease, limit
        )

    def hold(self, reminder_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        return hold(self.session, t.reminders, reminder_id, owner, now, lease)

    def release(self, reminder_ids: list[int], owner: str) -> None:
        release(self.session, t.reminders, reminder_ids, owner)


class ChatRepository(_Repository):
    def session_for(self, platform: str, user_id: str) -> ChatSession | None:
        query = select(ChatSession).where(
            t.chat_sessions.c.platform == platform, t.chat_sessions.c.user_id == user_id
        )
        return self.session.scalars(query).first()

    def save(self, chat: ChatSession) -> ChatSession:
        return self.session.merge(chat)

    def handoff(self, handoff_id: int) -> Handoff:
        found = self.session.get(Handoff, handoff_id)
        if found is None:
            raise NotFound(f"no hand-off {handoff_id}", kind="handoff")
        return found

    def open_handoffs(self, branch_ids: Iterable[int] | None = None) -> Sequence[Handoff]:
        query = (
            select(Handoff)
            .join(t.employees, t.employees.c.id == t.handoffs.c.employee_id)
            .where(t.handoffs.c.state == HandoffState.OPEN)
        )
        if branch_ids is not None:
            query = query.where(t.employees.c.branch_id.in_(list(branch_ids)))
        return self.session.scalars(query.order_by(t.handoffs.c.id)).all()

    def latest_link_code(self, platform: str, user_id: str) -> LinkCode | None:
        query = (
            select(LinkCode)
            .where(t.link_codes.c.platform == platform, t.link_codes.c.user_id == user_id)
            .order_by(t.link_codes.c.id.desc())
        )
        return self.session.scalars(query).first()


class InboxRepository(_Repository):
    def record(self, platform: str, event_id: str, now: datetime) -> bool:
        """Insert-or-ignore on (platform, event_id): True only for the first delivery."""
        dialect = self.session.get_bind().dialect.name
        values = {
            "platform": platform,
            "event_id": event_id,
            "received_at": now,
            "processed": False,
        }
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(t.inbox).values(**values).on_conflict_do_nothing()
        # RETURNING says whether this call inserted; an INSERT's rowcount is -1 on psycopg here.
        return self.session.execute(statement.returning(t.inbox.c.id)).first() is not None

    def mark_processed(self, platform: str, event_id: str) -> None:
        self.session.execute(
            t.inbox.update()
            .where(t.inbox.c.platform == platform, t.inbox.c.event_id == event_id)
            .values(processed=True)
        )


class RecordRepository(_Repository):
    """Documents filed in employees' records (receipts, vouchers)."""

    def file_for(self, employee_ids: Sequence[int], document: RecordDocument) -> int:
        """File one stored document in many records at once (a receipt covers a whole batch)."""
        if not employee_ids:
            return 0
        row = {
            "kind": document.kind,
            "filename": document.filename,
            "content_type": document.content_type,
            "size": document.size,
            "sha256": document.sha256,
            "storage_key": document.storage_key,
            "filed_at": document.filed_at,
            "period": document.period,
            "batch_id": document.batch_id,
            "claim_id": document.claim_id,
        }
        self.session.execute(
            t.record_documents.insert(), [row | {"employee_id": e} for e in employee_ids]
        )
        return len(employee_ids)

    def of_employee(
        self, employee_id: int, kind: RecordKind | None = None
    ) -> Sequence[RecordDocument]:
        query = select(RecordDocument).where(t.record_documents.c.employee_id == employee_id)
        if kind is not None:
            query = query.where(t.record_documents.c.kind == kind)
        return self.session.scalars(query.order_by(t.record_documents.c.id)).all()


class SettlementRepository(_Repository):
    """Queued calls to the bureau and the bank, leased like the outbox."""

    def get(self, job_id: int) -> SettlementJob:
        found = self.session.get(SettlementJob, job_id)
        if found is None:
            raise NotFound(f"no settlement job {job_id}", kind="job")
        return found

    def by_key(self, idempotency_key: str) -> SettlementJob | None:
        query = select(SettlementJob).where(t.settlement_jobs.c.idempotency_key == idempotency_key)
        return self.session.scalars(query).first()

    def queue(self, kind: JobKind, subject_id: int, key: str, now: datetime) -> SettlementJob:
        """Queue the job, or put the one with the same key back in the queue: a retry repeats
        the same idempotency key, so the far side answers with its first receipt instead of
        acting twice."""
        job = self.by_key(key)
        if job is None:
            job = SettlementJob(
                kind=kind, subject_id=subject_id, idempotency_key=key, created_at=now
            )
            self.session.add(job)
        elif job.state is not JobState.PENDING:
            job.state, job.lease_owner, job.lease_until = JobState.PENDING, None, None
        return job

    def for_subject(self, kind: JobKind, subject_id: int) -> Sequence[SettlementJob]:
        query = select(SettlementJob).where(
            t.settlement_jobs.c.kind == kind, t.settlement_jobs.c.subject_id == subject_id
        )
        return self.session.scalars(query.order_by(t.settlement_jobs.c.id)).all()

    def claim_due(self, now: datetime, owner: str, lease: timedelta, limit: int = 20) -> list[int]:
        table = t.settlement_jobs
        due = table.c.state == JobState.PENDING
        return claim_due(self.session, table, due, [table.c.id], owner, now, lease, limit)

    def hold(self, job_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        return hold(self.session, t.settlement_jobs, job_id, owner, now, lease)

    def release(self, job_ids: list[int], owner: str) -> None:
        release(self.session, t.settlement_jobs, job_ids, owner)
