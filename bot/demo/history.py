"""A few months of the demo organisation's past, so the dashboard's reports have figures on
``make run``: claims paid after a normal or a held submission, and alerts acknowledged at each
escalation level, then resolved.

Written straight into the tables as finished history (no notifications: a freshly started demo
must not push months-old messages to anyone). ``hrbot demo`` never loads it; its scenario starts
from the organisation alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.domain.audit import AuditEntry
from core.domain.claims import Claim, ClaimState, ClaimType
from core.domain.contributions import DelayReason
from core.domain.directory import Role
from core.domain.escalation import (
    Alert,
    AlertState,
    EscalationPolicy,
    EscalationStep,
    StepState,
    SubjectKind,
)
from core.persistence.uow import UnitOfWork


@dataclass(frozen=True)
class PastClaim:
    employee_no: str
    days_ago: int
    held: bool
    days_to_pay: float
    amount: str


@dataclass(frozen=True)
class PastAlert:
    branch: str
    days_ago: int
    hours_to_ack: float
    cause: DelayReason


CLAIMS = (
    PastClaim("E1002", 150, False, 6.5, "3200.00"),
    PastClaim("E1003", 120, False, 9.0, "1850.50"),
    PastClaim("E1102", 95, False, 4.2, "760.00"),
    PastClaim("E1101", 100, True, 31.0, "12800.00"),
    PastClaim("E1002", 60, True, 24.5, "5400.00"),
)
ALERTS = (
    PastAlert("SH01", 140, 5.0, DelayReason.FINANCE_APPROVAL),
    PastAlert("BJ01", 110, 30.0, DelayReason.DATA_ERROR),
    PastAlert("CD01", 150, 52.0, DelayReason.BANK_FAILURE),
    PastAlert("GZ01", 80, 2.5, DelayReason.HR_VERIFICATION),
)


def add_demo_history(uow: UnitOfWork, now: datetime, policy: EscalationPolicy) -> None:
    for past in CLAIMS:
        _claim(uow, past, now)
    version = uow.alerts.policy_version(policy)
    for alert in ALERTS:
        _alert(uow, alert, now, policy.name, version)


def _claim(uow: UnitOfWork, past: PastClaim, now: datetime) -> None:
    employee = uow.directory.employee_by_no(past.employee_no)
    assert employee is not None, past.employee_no
    submitted = now - timedelta(days=past.days_ago)
    paid = submitted + timedelta(days=past.days_to_pay)
    claim = Claim(
        employee_id=employee.id,
        claim_type=ClaimType.OUTPATIENT
        if Decimal(past.amount) < 2000
        else ClaimType.HOSPITALIZATION,
        created_at=submitted - timedelta(hours=2),
        state=ClaimState.PAID,
        amount=Decimal(past.amount),
        submitted_at=submitted,
        decided_at=paid - timedelta(days=1),
        paid_at=paid,
        payout_reference=f"DEMO-{past.employee_no}-{past.days_ago}",
    )
    uow.claims.add(claim)
    uow.flush()
    steps = [("claim.submit", submitted, "draft", "submitted")]
    if past.held:
        steps.append(("claim.hold", submitted, "submitted", "on_hold"))
        steps.append(("claim.resume", paid - timedelta(days=3), "on_hold", "under_review"))
    else:
        steps.append(("claim.review", submitted, "submitted", "under_review"))
    steps.append(("claim.approve", paid - timedelta(days=1), "under_review", "approved"))
    steps.append(("claim.paid", paid, "approved", "paid"))
    for action, at, before, after in steps:
        uow.audit.add(
            AuditEntry(
                at=at,
                action=action,
                subject_kind="claim",
                subject_id=claim.id,
                from_state=before,
                to_state=after,
                detail={"demo_history": True},
            )
        )


def _alert(uow: UnitOfWork, past: PastAlert, now: datetime, policy: str, version: int) -> None:
    branch = next(b for b in uow.directory.branches() if b.code == past.branch)
    hr = [e for e in uow.directory.responsible(branch.id, Role.HR) if e.leave_date is None]
    opened = now - timedelta(days=past.days_ago)
    acknowledged = opened + timedelta(hours=past.hours_to_ack)
    alert = Alert(
        subject_kind=SubjectKind.CONTRIBUTION_BATCH,
        subject_id=0,
        branch_id=branch.id,
        opened_at=opened,
        policy_name=policy,
        policy_version=version,
        suspected_cause=past.cause,
        state=AlertState.RESOLVED,
        level=1 + sum(past.hours_to_ack >= hours for hours in (24, 48)),
        cause=past.cause,
        acknowledged_at=acknowledged,
        acknowledged_by=hr[0].id if hr else None,
        expected_fix_date=(acknowledged + timedelta(days=3)).date(),
        resolved_at=acknowledged + timedelta(days=2),
        resolution="demo history: contributions paid",
    )
    uow.alerts.add(alert)
    uow.flush()
    for level, hours in ((1, 0), (2, 24), (3, 48)):
        due = opened + timedelta(hours=hours)
        fired = due <= acknowledged
        uow.alerts.add(
            EscalationStep(
                alert_id=alert.id,
                level=level,
                due_at=due,
                state=StepState.FIRED if fired else StepState.CANCELLED,
                fired_at=due if fired else None,
            )
        )
