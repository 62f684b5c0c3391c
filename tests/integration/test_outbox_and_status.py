"""The outbox never holds a notice twice; the status check reads the database per the contract."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from core.domain.contributions import MonthState, Status
from core.domain.errors import InvalidValue, NotFound
from core.domain.notifications import ChannelKind, Notification
from core.ports import ManualClock
from core.services.common import notify
from core.services.context import Context, Rules
from core.services.status import check_status
from tests.factories import add_records, make_org, notices

NOW = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


def notice(recipient_id: int, key: str = "k") -> Notification:
    return Notification(
        recipient_id=recipient_id,
        channel=ChannelKind.CHAT,
        key="claim.held",
        params={},
        idempotency_key=key,
        created_at=NOW,
    )


def test_the_same_idempotency_key_is_queued_once(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        assert uow.outbox.enqueue(notice(org.employee.id)) is True
        assert uow.outbox.enqueue(notice(org.employee.id)) is False  # same transaction
        uow.commit()
    with ctx.uow() as uow:
        assert uow.outbox.enqueue(notice(org.employee.id)) is False  # a later one
        assert uow.outbox.enqueue(notice(org.employee.id, "other")) is True
        uow.commit()
    assert len(notices(ctx)) == 2


def test_notify_twice_with_one_key_tells_once_per_channel(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        first = notify(ctx, uow, org.employee, "claim.held", {"claim": "C1"}, "claim:1:held")
        again = notify(ctx, uow, org.employee, "claim.held", {"claim": "C1"}, "claim:1:held")
        uow.commit()
    assert (first, again) == (1, 0)
    assert [(n.key, n.params) for n in notices(ctx)] == [("claim.held", {"claim": "C1"})]


def test_the_database_itself_refuses_a_duplicate_key(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        uow.session.add(notice(org.employee.id))
        uow.session.add(notice(org.hr.id))
        with pytest.raises(IntegrityError):
            uow.commit()
    assert notices(ctx) == []


def test_disabled_channels_are_not_queued(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        queued = notify(
            ctx,
            uow,
            org.employee,
            "claim.paid",
            {},
            "claim:1:paid",
            channels=(ChannelKind.CHAT, ChannelKind.SMS, ChannelKind.EMAIL),
        )
        uow.commit()
    assert queued == 1
    assert [n.channel for n in notices(ctx)] == ["chat"]


# The status check over the database -----------------------------------------------------------


def test_status_reads_the_window_from_the_database(ctx: Context) -> None:
    org = make_org(ctx)
    add_records(
        ctx,
        org.employee,
        [f"2026-{m:02d}" for m in range(1, 11)],
        unpaid=["2026-08", "2026-09", "2026-10"],
        late=["2026-05"],
    )
    report = check_status(ctx, f"  {org.employee.employee_no} ")
    assert report.status is Status.DELAYED
    assert [(str(m.period), str(m.state)) for m in report.months] == [
        ("2026-05", "paid_late"),
        ("2026-06", "paid_on_time"),
        ("2026-07", "paid_on_time"),
        ("2026-08", "overdue"),
        ("2026-09", "overdue"),
        ("2026-10", "unpaid_not_due"),
    ]
    assert len(check_status(ctx, org.employee.employee_no, months=12).months) == 12


def test_the_due_date_ends_at_midnight_in_shanghai(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    add_records(ctx, org.employee, ["2026-08", "2026-09", "2026-10"], unpaid=["2026-10"])
    clock.set(datetime(2026, 10, 15, 15, 59, 59, tzinfo=UTC))  # 23:59:59 on the 15th locally
    before = check_status(ctx, org.employee.employee_no, months=3)
    assert (before.months[-1].state, before.status) == (MonthState.UNPAID_NOT_DUE, Status.NORMAL)
    clock.set(datetime(2026, 10, 15, 16, 0, tzinfo=UTC))  # midnight in Shanghai, 16:00 in UTC
    after = check_status(ctx, org.employee.employee_no, months=3)
    assert (after.months[-1].state, after.status) == (MonthState.OVERDUE, Status.DELAYED)


def test_the_lapse_threshold_comes_from_the_rules(ctx: Context) -> None:
    org = make_org(ctx)
    add_records(ctx, org.employee, ["2026-08", "2026-09", "2026-10"], unpaid=["2026-08", "2026-09"])
    assert check_status(ctx, org.employee.employee_no, 3).status is Status.DELAYED
    strict = dataclasses.replace(ctx, rules=Rules(lapse_after=2))
    assert check_status(strict, org.employee.employee_no, 3).status is Status.LAPSED


def test_unknown_employee_and_silly_windows_are_refused(ctx: Context) -> None:
    org = make_org(ctx)
    with pytest.raises(NotFound):
        check_status(ctx, "NOBODY")
    for months in (0, -1, 121):
        with pytest.raises(InvalidValue):
            check_status(ctx, org.employee.employee_no, months)
