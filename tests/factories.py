"""Small builders for a test organisation, written through the real unit of work.

``make_org(ctx)`` gives one branch (due day 15) with an employee, the branch's HR, an HR manager,
an HR director and a finance approver, each answering for the branch. ``add_records`` writes
contribution months paid on time, paid late or unpaid; ``make_batch`` builds a branch's batch for a
month from those records, walked through the real lifecycle to the state asked for.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from core.domain.audit import AuditEntry
from core.domain.batches import BatchLine, BatchState, ContributionBatch
from core.domain.claims import REQUIRED_DOCUMENTS, ClaimType
from core.domain.consents import Consent, ConsentKind
from core.domain.contributions import ContributionRecord, DelayReason
from core.domain.directory import Branch, Employee, Role
from core.domain.idnumbers import make_id_number
from core.domain.periods import Period
from core.persistence.tables import metadata
from core.services.claims import attach_document, open_claim
from core.services.consents import consent_needed
from core.services.context import Context

PDF = b"%PDF-1.4\n% test document\n1 0 obj\n<< >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16
_PDF_SERIAL = itertools.count(1)


def unique_pdf() -> bytes:
    """A PDF no other call returns: the same file twice on a claim is refused as a duplicate."""
    serial = str(next(_PDF_SERIAL)).encode()
    return PDF.replace(b"% test document", b"% test document " + serial)


_ID_SEQUENCE = itertools.count(100)

BASE = Decimal("10000.00")
EMPLOYER = Decimal("2650.50")
EMPLOYEE = Decimal("1050.25")


@dataclass
class Org:
    branch: Branch
    employee: Employee
    hr: Employee
    finance: Employee
    hr_manager: Employee | None = None
    hr_director: Employee | None = None
    others: dict[str, Employee] = field(default_factory=dict)


def add_branch(
    ctx: Context, code: str = "SH01", name: str = "上海分公司", due_day: int = 15
) -> Branch:
    with ctx.uow() as uow:
        branch = Branch(code=code, name=name, city=name[:2], due_day=due_day)
        uow.directory.add(branch)
        uow.commit()
        return branch


def add_employee(
    ctx: Context,
    branch: Branch,
    employee_no: str,
    name: str,
    role: Role = Role.EMPLOYEE,
    *,
    hire_date: date = date(2020, 3, 1),
    leave_date: date | None = None,
    responsible_for: Iterable[Branch] = (),
    id_sequence: int | None = None,
    consent: bool = True,
) -> Employee:
    """An employee; staff answer for ``responsible_for`` (``Responsibility`` rows). With
    ``consent`` they have agreed to the medical notice in force, so claims take documents."""
    with ctx.uow() as uow:
        employee = Employee(
            employee_no=employee_no,
            name=name,
            branch_id=branch.id,
            hire_date=hire_date,
            leave_date=leave_date,
            role=role,
            id_number=(
                make_id_number("110105", date(1990, 5, 17), id_sequence)
                if id_sequence is not None
                else None
            ),
            email=f"{employee_no.lower()}@example.test",
            contribution_base=BASE,
        )
        uow.directory.add(employee)
        uow.flush()
        for other in responsible_for:
            uow.directory.assign(employee, other)
        if consent:
            _consent(ctx, uow, employee.id)
        uow.commit()
        return employee


def _consent(ctx: Context, uow: Any, employee_id: int) -> None:
    notice = ctx.rules.medical_notice
    uow.privacy.add_consent(
        Consent(employee_id, ConsentKind.MEDICAL, notice, True, ctx.now(), "web")
    )


def consent_all(ctx: Context) -> None:
    """Everyone on file agrees to the medical notice (for tests over the demo organisation
    that are not about consent)."""
    with ctx.uow() as uow:
        for branch in uow.directory.branches():
            for person in uow.directory.employees_of_branch(branch.id):
                _consent(ctx, uow, person.id)
        uow.commit()


def make_org(
    ctx: Context,
    *,
    code: str = "SH01",
    due_day: int = 15,
    with_manager: bool = True,
    with_director: bool = True,
    hire_date: date = date(2020, 3, 1),
    leave_date: date | None = None,
) -> Org:
    """The seed's people: 张三, his branch's HR, the HR manager and director, finance."""
    branch = add_branch(ctx, code, "上海分公司", due_day)
    employee = add_employee(
        ctx,
        branch,
        f"{code}-E001",
        "张三",
        hire_date=hire_date,
        leave_date=leave_date,
        id_sequence=next(_ID_SEQUENCE) % 1000,
    )
    hr = add_employee(ctx, branch, f"{code}-H001", "李四", Role.HR, responsible_for=[branch])
    finance = add_employee(
        ctx, branch, f"{code}-F001", "王五", Role.FINANCE, responsible_for=[branch]
    )
    manager = (
        add_employee(ctx, branch, f"{code}-M001", "赵六", Role.HR_MANAGER, responsible_for=[branch])
        if with_manager
        else None
    )
    director = (
        add_employee(ctx, branch, f"{code}-D001", "钱七", Role.HR_DIRECTOR)
        if with_director
        else None
    )
    return Org(branch, employee, hr, finance, manager, director)


def add_records(
    ctx: Context,
    employee: Employee,
    periods: Iterable[str],
    *,
    unpaid: Iterable[str] = (),
    late: Iterable[str] = (),
    due_day: int = 15,
    delay_reason: DelayReason | None = None,
) -> dict[str, int]:
    """Contribution months for ``employee``: paid 5 days early unless unpaid or late (10 days).

    Returns the record ids by period text.
    """
    unpaid_set, late_set = set(unpaid), set(late)
    ids: dict[str, int] = {}
    with ctx.uow() as uow:
        records = []
        for text in periods:
            period = Period.parse(text)
            due = period.day(due_day)
            paid: date | None = due - timedelta(days=5)
            if text in unpaid_set:
                paid = None
            elif text in late_set:
                paid = due + timedelta(days=10)
            record = ContributionRecord(
                employee_id=employee.id,
                period=period,
                base=BASE,
                employer_amount=EMPLOYER,
                employee_amount=EMPLOYEE,
                due_date=due,
                paid_date=paid,
                delay_reason=delay_reason if text in unpaid_set | late_set else None,
            )
            uow.contributions.add(record)
            records.append((text, record))
        uow.flush()
        ids = {text: record.id for text, record in records}
        uow.commit()
    return ids


_PATH = (
    ("verify", BatchState.HR_VERIFIED),
    ("request_approval", BatchState.FINANCE_PENDING),
    ("approve", BatchState.APPROVED),
    ("submit", BatchState.SUBMITTED),
)


def make_batch(
    ctx: Context,
    org: Org,
    period: str,
    state: BatchState = BatchState.DRAFT,
    *,
    verified_by: Employee | None = None,
) -> int:
    """The branch's batch for ``period``, one line per contribution record of that month."""
    with ctx.uow() as uow:
        month = Period.parse(period)
        records = uow.contributions.for_branch(org.branch.id, month)
        batch = ContributionBatch(
            branch_id=org.branch.id,
            period=month,
            due_date=month.day(org.branch.due_day),
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        uow.batches.add(batch)
        uow.flush()
        lines = [
            BatchLine(
                batch_id=batch.id,
                employee_id=r.employee_id,
                contribution_id=r.id,
                base=r.base,
                employer_amount=r.employer_amount,
                employee_amount=r.employee_amount,
            )
            for r in records
        ]
        for line in lines:
            uow.batches.add(line)
        batch.set_totals(lines)
        verifier = verified_by or org.hr
        for event, reached in _PATH:
            if batch.state is state:
                break
            actor = verifier.id if event == "verify" else org.finance.id
            batch.move(event, actor)
            assert batch.state is reached
        assert batch.state is state, f"make_batch cannot reach {state}"
        uow.commit()
        return batch.id


def open_complete_claim(
    ctx: Context, employee: Employee, claim_type: ClaimType = ClaimType.HOSPITALIZATION
) -> int:
    """A draft claim with every required document attached, ready to submit (the employee's
    consent to the medical notice is recorded first if they have none)."""
    if consent_needed(ctx, employee.id):
        with ctx.uow() as uow:
            _consent(ctx, uow, employee.id)
            uow.commit()
    claim = open_claim(ctx, employee.id, claim_type, channel="web")
    for kind in REQUIRED_DOCUMENTS[claim_type]:
        attach_document(
            ctx, claim.id, employee.id, kind, f"{kind}.pdf", unique_pdf(), channel="web"
        )
    return claim.id


# Reading back what happened ------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    to: str
    """The recipient's employee number."""
    channel: str
    key: str
    params: dict[str, Any]
    buttons: list[dict[str, Any]]
    id: int


def notices(ctx: Context, key: str | None = None, to: Employee | None = None) -> list[Notice]:
    """The outbox, oldest first, optionally only one message key or one recipient."""
    with ctx.uow() as uow:
        numbers = {}
        found = []
        for n in uow.outbox.all():
            if (key is not None and n.key != key) or (to is not None and n.recipient_id != to.id):
                continue
            if n.recipient_id not in numbers:
                numbers[n.recipient_id] = uow.directory.employee(n.recipient_id).employee_no
            found.append(
                Notice(numbers[n.recipient_id], str(n.channel), n.key, n.params, n.buttons, n.id)
            )
        return found


def audit_trail(ctx: Context, kind: str, subject_id: int) -> list[AuditEntry]:
    with ctx.uow() as uow:
        return list(uow.audit.for_subject(kind, subject_id))


def row_counts(ctx: Context) -> dict[str, int]:
    """How many rows each table holds: a snapshot to prove that nothing changed."""
    with ctx.uow() as uow:
        return {
            table.name: int(uow.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def late_replies(ctx: Context) -> list[tuple[str, str]]:
    """Chat answers handed to the outbox (core/services/replies.py): ``(state, original key)``."""
    from core.services.replies import REPLY_KEY

    outbox = metadata.tables["outbox"]
    with ctx.uow() as uow:
        rows = uow.session.execute(
            select(outbox.c.state, outbox.c.params).where(outbox.c.key == REPLY_KEY)
        ).all()
    return [(str(state), str((params or {}).get("reply_key"))) for state, params in rows]
