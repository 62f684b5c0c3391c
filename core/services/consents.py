"""Consent to process sensitive personal information (PIPL): ask, record, enforce.

The claim wizard asks before an employee's first document; ``attach_document`` refuses without
a consent to the notice in force whatever the caller, so no channel can skip the question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain.consents import Consent, ConsentKind, ConsentRequired, is_current
from core.domain.directory import Employee
from core.domain.errors import InvalidValue
from core.services.common import audit
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


def consent_needed(ctx: Context, employee_id: int, kind: ConsentKind = ConsentKind.MEDICAL) -> bool:
    """True when the person must be asked (never answered, refused, or an older notice)."""
    with ctx.uow() as uow:
        return not is_current(uow.privacy.latest_consent(employee_id, kind), _notice(ctx, kind))


def record_consent(
    ctx: Context,
    employee_id: int,
    granted: bool,
    notice_version: str,
    channel: str | None = None,
    kind: ConsentKind = ConsentKind.MEDICAL,
) -> Consent:
    """Keep the person's answer to the notice they were shown, and audit it.

    ``notice_version`` is the version on the button they pressed: an answer to a notice no
    longer in force is refused, so nobody agrees to text they were not shown.
    """
    if notice_version != _notice(ctx, kind):
        raise InvalidValue("this notice has been replaced", field="notice_version")
    with ctx.uow() as uow:
        employee = uow.directory.employee(employee_id)
        action = "consent.grant" if granted else "consent.refuse"
        consent = _add(ctx, uow, employee, kind, notice_version, granted, channel, action)
        uow.commit()
        return consent


def current_consent(
    ctx: Context, employee_id: int, kind: ConsentKind = ConsentKind.MEDICAL
) -> Consent | None:
    """The person's consent to the notice in force, or None (never asked, refused, withdrawn,
    or given to an older notice)."""
    with ctx.uow() as uow:
        latest = uow.privacy.latest_consent(employee_id, kind)
    return latest if is_current(latest, _notice(ctx, kind)) else None


def withdraw_consent(
    ctx: Context,
    employee_id: int,
    channel: str | None = None,
    kind: ConsentKind = ConsentKind.MEDICAL,
) -> Consent | None:
    """Withdraw the person's consent (PIPL art. 15): recorded as a refusal of the notice they
    had agreed to, audited ``consent.withdraw``. From then on no document of theirs is taken
    until they agree again; what was processed before stays lawful and follows its retention.
    None when there was no consent in force to withdraw (nothing is recorded)."""
    with ctx.uow() as uow:
        employee = uow.directory.employee(employee_id)
        latest = uow.privacy.latest_consent(employee.id, kind)
        if not is_current(latest, _notice(ctx, kind)):
            return None
        assert latest is not None  # is_current says so
        version, given_at = latest.notice_version, latest.at.isoformat()
        withdrawal = _add(
            ctx, uow, employee, kind, version, False, channel, "consent.withdraw", given_at=given_at
        )
        uow.commit()
        return withdrawal


def _add(
    ctx: Context,
    uow: UnitOfWork,
    employee: Employee,
    kind: ConsentKind,
    notice_version: str,
    granted: bool,
    channel: str | None,
    action: str,
    **detail: str,
) -> Consent:
    """One answer to a notice, stored with its time and channel, and its audit row."""
    consent = Consent(
        employee_id=employee.id,
        kind=kind,
        notice_version=notice_version,
        granted=granted,
        at=ctx.now(),
        channel=channel,
    )
    uow.privacy.add_consent(consent)
    audit(
        uow,
        consent.at,
        action,
        ("employee", employee.id),
        employee,
        None,
        channel,
        kind=str(kind),
        notice_version=notice_version,
        **detail,
    )
    return consent


def require_consent(
    ctx: Context, uow: UnitOfWork, employee: Employee, kind: ConsentKind = ConsentKind.MEDICAL
) -> None:
    """Raise ``ConsentRequired`` unless ``employee`` agreed to the notice in force."""
    notice = _notice(ctx, kind)
    if not is_current(uow.privacy.latest_consent(employee.id, kind), notice):
        raise ConsentRequired(
            "consent to process medical and identity documents is needed first "
            f"(notice {notice}); nothing was stored",
            kind=str(kind),
            notice_version=notice,
        )


def _notice(ctx: Context, kind: ConsentKind) -> str:
    return {ConsentKind.MEDICAL: ctx.rules.medical_notice}[kind]
