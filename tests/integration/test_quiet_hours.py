"""Quiet hours: a staff member's push that is not urgent waits for their branch's next working
moment; escalations from level 2, and what employees are told about their own case, do not."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from adapters.recording import RecordingChannel
from bot.routing import ChannelRouter
from core.chat import Platform
from core.domain.directory import Employee
from core.domain.notifications import ChannelKind
from core.ports import ManualClock
from core.services.common import notify
from core.services.context import Context
from core.services.delivery import deliver_due
from tests.factories import make_org, notices
from tests.integration.test_delivery import RENDERER

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def push(ctx: Context, person: Employee, key: str) -> datetime | None:
    with ctx.uow() as uow:
        notify(
            ctx,
            uow,
            uow.directory.employee(person.id),
            key,
            {"alert_id": 1},
            f"quiet:{key}",
            channels=[ChannelKind.CHAT, ChannelKind.EMAIL],
        )
        uow.commit()
        (chat,) = [n for n in uow.outbox.all() if n.key == key and n.channel is ChannelKind.CHAT]
        return chat.next_attempt_at


def test_a_first_level_alert_at_night_waits_for_the_morning(
    ctx: Context, clock: ManualClock
) -> None:
    org = make_org(ctx)
    clock.set(local(2026, 10, 16, 22, 30))  # a Friday night
    assert push(ctx, org.hr, "alert.level1") == local(2026, 10, 19, 9, 0)  # Monday 09:00
    router = ChannelRouter(chats={Platform.RECORDING: (chat := RecordingChannel())})
    assert deliver_due(ctx, router, RENDERER).sent == 0
    assert chat.sent == []
    clock.set(local(2026, 10, 19, 9, 0))
    assert deliver_due(ctx, router, RENDERER).sent == 1


def test_urgent_and_personal_pushes_go_at_once(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    clock.set(local(2026, 10, 17, 3, 0))  # Saturday, 03:00
    assert org.hr_manager is not None
    assert push(ctx, org.hr_manager, "alert.level2") is None
    assert push(ctx, org.employee, "claim.held") is None


def test_in_working_hours_nothing_waits(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    clock.set(local(2026, 10, 14, 10, 0))
    assert push(ctx, org.finance, "claim.review_requested") is None
    assert [n.key for n in notices(ctx, to=org.finance)] == ["claim.review_requested"]


def test_a_branch_with_its_own_hours_is_quiet_on_its_own_schedule(
    ctx: Context, clock: ManualClock
) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        uow.directory.branch(org.hr.branch_id).working_hours = "10:00-19:00"
        uow.commit()
    clock.set(local(2026, 10, 14, 9, 30))
    assert push(ctx, org.hr, "alert.level1") == local(2026, 10, 14, 10, 0)


def test_quiet_hours_can_be_turned_off(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    loud = dataclasses.replace(ctx, rules=dataclasses.replace(ctx.rules, quiet_hours=False))
    clock.set(local(2026, 10, 16, 22, 30))
    assert push(loud, org.hr, "alert.level1") is None


def test_demo_mode_never_holds_a_push() -> None:
    from bot.bootstrap import rules_from
    from bot.settings import Settings

    assert rules_from(Settings(demo_mode=True)).quiet_hours is False
    assert rules_from(Settings(demo_mode=False)).quiet_hours is True
