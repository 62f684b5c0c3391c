"""Delegation (``/away``): while someone is away, their alerts, reviews and cards go to their
substitute, who acts "on behalf of" them until the end of the absence's last day; an away person
with nobody to stand in is skipped (the alert goes on to the next level) and the HR directors are
told; substitutes never loop; an approver with no substitute is reminded three days before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import CatalogRenderer
from core.domain.absences import SubstituteCycle
from core.domain.batches import BatchState
from core.domain.contributions import DelayReason
from core.domain.directory import Employee, Role
from core.domain.errors import InvalidValue, PermissionDenied
from core.domain.escalation import StepState, SubjectKind
from core.ports import ManualClock
from core.services.absences import absence_reminders, cancel_away, set_away, who_acts_for
from core.services.alerts import acknowledge_alert, sweep_escalations
from core.services.batches import approve_batch
from core.services.claims import approve_claim, claim_view, read_document, submit_claim
from core.services.context import Context
from tests.factories import (
    Org,
    add_branch,
    add_employee,
    add_records,
    audit_trail,
    make_batch,
    make_org,
    notices,
    open_complete_claim,
    row_counts,
)

OCT_12 = date(2026, 10, 12)  # today in the tests (DEMO_NOW, 09:00 in Shanghai)
OCT_13 = date(2026, 10, 13)
LAST_MINUTE_OF_OCT_13 = datetime(2026, 10, 13, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
START_OF_OCT_14 = datetime(2026, 10, 13, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
AMOUNT = Decimal("8650.00")


@pytest.fixture
def org(ctx: Context) -> Org:
    """The seed's Shanghai branch, plus Beijing's HR and finance to stand in for Shanghai's."""
    org = make_org(ctx)
    beijing = add_branch(ctx, "BJ01", "北京分公司")
    org.others["bj_hr"] = add_employee(
        ctx, beijing, "BJ01-H001", "孙八", Role.HR, responsible_for=[beijing]
    )
    org.others["bj_finance"] = add_employee(
        ctx, beijing, "BJ01-F001", "周九", Role.FINANCE, responsible_for=[beijing]
    )
    return org


def held_claim_alert(ctx: Context, org: Org, employee: Employee | None = None) -> int:
    """张三's (or ``employee``'s) claim held for unpaid months: the alert's id."""
    employee = employee or org.employee
    add_records(ctx, employee, MONTHS, unpaid=MONTHS[1:], delay_reason=DelayReason.FINANCE_APPROVAL)
    claim_id = open_complete_claim(ctx, employee)
    submit_claim(ctx, claim_id, employee.id)
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
        return alert.id


def clean_claim(ctx: Context, org: Org, employee: Employee | None = None) -> int:
    """A claim with a clean record, submitted: it goes straight to finance for review."""
    employee = employee or org.employee
    add_records(ctx, employee, MONTHS, unpaid=["2026-10"])
    claim_id = open_complete_claim(ctx, employee)
    submit_claim(ctx, claim_id, employee.id)
    return claim_id


def last(ctx: Context, kind: str, subject_id: int, action: str) -> dict[str, object]:
    return [e for e in audit_trail(ctx, kind, subject_id) if e.action == action][-1].detail


def test_an_alert_level_goes_to_the_substitute_who_acts_on_behalf_of_the_absent_hr(
    ctx: Context, org: Org
) -> None:
    sun = org.others["bj_hr"]
    set_away(ctx, org.hr.id, OCT_12, OCT_13, "BJ01-H001", "slack")
    assert [n.to for n in notices(ctx, "delegation.you_substitute")] == ["BJ01-H001"]

    alert_id = held_claim_alert(ctx, org)

    (card,) = notices(ctx, "alert.level1")
    assert card.to == "BJ01-H001"  # not 李四, who is away
    assert card.params["on_behalf_of"] == "李四"
    escalated = last(ctx, "alert", alert_id, "alert.escalate")
    assert escalated["notified"] == ["BJ01-H001"]
    assert escalated["on_behalf_of"] == {"BJ01-H001": "SH01-H001"}
    with ctx.uow() as uow:
        stored = next(n for n in uow.outbox.all() if n.id == card.id)
        rendered = CatalogRenderer("en", ZoneInfo("Asia/Shanghai")).render(stored, sun)
    assert "on behalf of 李四 (SH01-H001)" in rendered.text

    acknowledge_alert(ctx, alert_id, sun.id, DelayReason.FINANCE_APPROVAL, date(2026, 10, 20))
    acknowledged = last(ctx, "alert", alert_id, "alert.acknowledge")
    assert acknowledged["on_behalf_of"] == "SH01-H001"


def test_a_level_whose_person_is_away_without_substitute_goes_to_the_next_level(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    set_away(ctx, org.hr.id, OCT_12, date(2026, 10, 20), None, "slack")
    alert_id = held_claim_alert(ctx, org)

    assert notices(ctx, "alert.level1") == []
    skipped = last(ctx, "alert", alert_id, "alert.level_skipped")
    assert skipped["note"] == "everyone away"
    with ctx.uow() as uow:
        (first, *_) = uow.alerts.steps(alert_id)
        assert (first.state, first.note) == (StepState.SKIPPED, "everyone away")
    (broken,) = notices(ctx, "delegation.mapping_broken")
    assert broken.to == "SH01-D001" and broken.params["employee"] == "李四"

    clock.set(clock.now() + timedelta(hours=24))
    sweep_escalations(ctx)
    assert [n.to for n in notices(ctx, "alert.level2")] == ["SH01-M001"]
    clock.set(clock.now() + timedelta(hours=24))
    sweep_escalations(ctx)
    assert [n.to for n in notices(ctx, "alert.level3")] == ["SH01-D001"]

    # A second alert skips level 1 too, without telling the directors a second time.
    held_claim_alert(ctx, org, add_employee(ctx, org.branch, "SH01-E002", "吴十"))
    assert len(notices(ctx, "delegation.mapping_broken")) == 1
    with ctx.uow() as uow:
        absence_id = uow.absences.of(org.hr.id)[0].id
    assert absence_id is not None
    trail = [e.action for e in audit_trail(ctx, "absence", absence_id)]
    assert trail == ["away.set", "away.mapping_broken"]


def test_substitutes_never_go_round_in_a_loop(ctx: Context, org: Org) -> None:
    sun, manager = org.others["bj_hr"], org.hr_manager
    assert manager is not None
    set_away(ctx, org.hr.id, date(2026, 12, 1), date(2026, 12, 7), "BJ01-H001")
    before = row_counts(ctx)

    with pytest.raises(SubstituteCycle) as loop:  # A → B → A
        set_away(ctx, sun.id, date(2026, 12, 5), date(2026, 12, 10), "SH01-H001")
    assert loop.value.params["chain_nos"] == ["BJ01-H001", "SH01-H001", "BJ01-H001"]
    assert row_counts(ctx) == before  # nothing stored

    set_away(ctx, sun.id, date(2026, 12, 3), date(2026, 12, 9), "SH01-M001")
    with pytest.raises(SubstituteCycle) as loop:  # A → B → C → A, all away on 12-06 and 12-07
        set_away(ctx, manager.id, date(2026, 12, 6), date(2026, 12, 12), "SH01-H001")
    assert loop.value.params["chain"] == ["赵六", "李四", "孙八", "赵六"]

    # No day on which all three are away: the chain breaks, so this is no loop.
    set_away(ctx, manager.id, date(2026, 12, 8), date(2026, 12, 12), "SH01-H001")
    # Days that do not overlap are no loop either.
    set_away(ctx, org.hr.id, date(2026, 12, 20), date(2026, 12, 21), None)


def test_an_absence_ends_when_its_last_day_ends(ctx: Context, org: Org, clock: ManualClock) -> None:
    set_away(ctx, org.hr.id, OCT_12, OCT_13, "BJ01-H001")

    def acting() -> str | None:
        with ctx.uow() as uow:
            hr = uow.directory.employee(org.hr.id)
            who, _ = who_acts_for(uow, hr, ctx.today())
            return who.employee_no if who else None

    clock.set(LAST_MINUTE_OF_OCT_13)
    assert acting() == "BJ01-H001"
    clock.set(START_OF_OCT_14)
    assert acting() == "SH01-H001"
    held_claim_alert(ctx, org)
    assert [n.to for n in notices(ctx, "alert.level1")] == ["SH01-H001"]
    assert "on_behalf_of" not in notices(ctx, "alert.level1")[0].params


def test_the_substitute_may_approve_during_the_absence_and_not_after(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    zhou = org.others["bj_finance"]
    set_away(ctx, org.finance.id, OCT_12, OCT_13, "BJ01-F001")
    claim_id = clean_claim(ctx, org)
    (review,) = notices(ctx, "claim.review_requested")
    assert (review.to, review.params["on_behalf_of"]) == ("BJ01-F001", "王五")
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING)
    late_claim_id = clean_claim(ctx, org, add_employee(ctx, org.branch, "SH01-E002", "吴十"))

    document_id = claim_view(ctx, claim_id).documents[0].id

    clock.set(LAST_MINUTE_OF_OCT_13)
    read_document(ctx, document_id, zhou.id)  # the substitute sees what they approve
    approve_claim(ctx, claim_id, zhou.id, AMOUNT)
    assert last(ctx, "claim", claim_id, "claim.approve")["on_behalf_of"] == "SH01-F001"
    approve_batch(ctx, batch_id, zhou.id)
    assert last(ctx, "batch", batch_id, "batch.approve")["on_behalf_of"] == "SH01-F001"

    clock.set(START_OF_OCT_14)
    with pytest.raises(PermissionDenied):
        approve_claim(ctx, late_claim_id, zhou.id, AMOUNT)
    with pytest.raises(PermissionDenied):
        read_document(ctx, document_id, zhou.id)
    approve_claim(ctx, late_claim_id, org.finance.id, AMOUNT)  # back at work, in their own right
    assert "on_behalf_of" not in last(ctx, "claim", late_claim_id, "claim.approve")


def test_a_cancelled_absence_hands_the_work_back(ctx: Context, org: Org) -> None:
    view = set_away(ctx, org.finance.id, OCT_12, OCT_13, "BJ01-F001", "slack")
    assert view.absence.id is not None
    cancel_away(ctx, org.finance.id, view.absence.id, "slack")
    clean_claim(ctx, org)
    assert [n.to for n in notices(ctx, "claim.review_requested")] == ["SH01-F001"]
    assert [n.to for n in notices(ctx, "delegation.cancelled")] == ["BJ01-F001"]
    actions = [e.action for e in audit_trail(ctx, "absence", view.absence.id)]
    assert actions == ["away.set", "away.cancel"]
    with pytest.raises(InvalidValue):
        cancel_away(ctx, org.finance.id, view.absence.id)


def test_an_approver_without_substitute_is_reminded_three_days_before_once(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    set_away(ctx, org.finance.id, date(2026, 10, 15), date(2026, 10, 16), None)
    set_away(ctx, org.hr.id, date(2026, 10, 15), date(2026, 10, 16), "BJ01-H001")
    bj_finance = org.others["bj_finance"]
    set_away(ctx, bj_finance.id, date(2026, 10, 16), date(2026, 10, 17), None)

    assert absence_reminders(ctx) == 1
    assert absence_reminders(ctx) == 0
    clock.set(clock.now() + timedelta(hours=6))
    assert absence_reminders(ctx) == 0
    (reminder,) = notices(ctx, "delegation.no_substitute")
    assert reminder.to == "SH01-F001" and reminder.params["starts_on"] == "2026-10-15"

    clock.set(clock.now() + timedelta(days=1))  # now three days before Beijing's absence
    assert absence_reminders(ctx) == 1
    assert [n.to for n in notices(ctx, "delegation.no_substitute")] == ["SH01-F001", "BJ01-F001"]


@pytest.mark.parametrize(
    ("starts", "ends", "substitute", "field"),
    [
        (date(2026, 12, 7), date(2026, 12, 1), None, "dates"),  # ends before it starts
        (date(2026, 10, 1), date(2026, 10, 11), None, "dates"),  # already over
        (date(2026, 12, 1), date(2027, 12, 2), None, "dates"),  # 367 days
        (OCT_12, OCT_13, "SH01-H001", "substitute_self"),
        (OCT_12, OCT_13, "NOBODY", "substitute"),
    ],
)
def test_bad_absences_are_refused_and_nothing_is_stored(
    ctx: Context, org: Org, starts: date, ends: date, substitute: str | None, field: str
) -> None:
    before = row_counts(ctx)
    with pytest.raises(InvalidValue) as refused:
        set_away(ctx, org.hr.id, starts, ends, substitute)
    assert refused.value.params["field"] == field
    assert row_counts(ctx) == before


def test_only_someone_able_to_do_the_work_may_stand_in(ctx: Context, org: Org) -> None:
    with pytest.raises(InvalidValue) as refused:
        set_away(ctx, org.finance.id, OCT_12, OCT_13, "SH01-H001")  # HR cannot approve payments
    assert refused.value.params["field"] == "substitute_role"
    with pytest.raises(InvalidValue):
        set_away(ctx, org.hr.id, OCT_12, OCT_13, "SH01-F001")
    set_away(ctx, org.hr.id, OCT_12, OCT_13, "SH01-D001")  # any HR role for an HR role
    with pytest.raises(PermissionDenied):
        set_away(ctx, org.employee.id, OCT_12, OCT_13, "SH01-H001")


def test_hr_notices_and_finance_lists_reach_the_stand_in(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    from core.services.chats import answer_handoff, record_handoff
    from core.services.countdowns import fire_due_reminders, plan_countdowns
    from core.services.queries import pending_approvals

    sun, zhou = org.others["bj_hr"], org.others["bj_finance"]
    set_away(ctx, org.hr.id, OCT_12, OCT_13, "BJ01-H001")
    set_away(ctx, org.finance.id, OCT_12, OCT_13, "BJ01-F001")

    # A question HR must answer goes to 李四's stand-in, who may answer it.
    handoff = record_handoff(ctx, org.employee.id, "生育津贴怎么申请？", "zh-CN", [], {})
    (question,) = notices(ctx, "handoff.new")
    assert (question.to, question.params["on_behalf_of"]) == ("BJ01-H001", "李四")
    answer_handoff(ctx, handoff.id, sun.id, "请提交出生证明")

    # The substitute's /approvals lists 王五's work, and says whose it is.
    claim_id = clean_claim(ctx, org)
    waiting = pending_approvals(ctx, zhou.id)
    assert [c.id for c, _ in waiting.claims] == [claim_id]
    assert waiting.standing_in_for == ("王五",)

    # The countdown before a batch's due date reminds both stand-ins, not the absent.
    make_batch(ctx, org, "2026-10", BatchState.FINANCE_PENDING)
    clock.set(datetime(2026, 10, 12, 0, 59, tzinfo=UTC))
    plan_countdowns(ctx)
    clock.set(datetime(2026, 10, 12, 1, 0, tzinfo=UTC))  # T−3 days, 09:00 in Shanghai
    fire_due_reminders(ctx, owner="w1")
    soon = notices(ctx, "batch.deadline_soon")
    assert sorted(n.to for n in soon) == ["BJ01-F001", "BJ01-H001"]

    clock.set(START_OF_OCT_14)  # back at work: their own lists again
    assert pending_approvals(ctx, zhou.id).claims == ()


def test_the_stand_ins_alert_list_and_dashboard_scope_borrow_the_absent_branches(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    from core.services.dashboard import scope_for
    from core.services.queries import open_alerts_for

    sun = org.others["bj_hr"]
    alert_id = held_claim_alert(ctx, org)
    assert open_alerts_for(ctx, sun.id) == []
    assert scope_for(ctx, sun.id, admin=False) == {org.others["bj_hr"].branch_id}

    set_away(ctx, org.hr.id, OCT_12, OCT_13, "BJ01-H001")
    assert [a.alert.id for a in open_alerts_for(ctx, sun.id)] == [alert_id]
    assert scope_for(ctx, sun.id, admin=False) == {sun.branch_id, org.branch.id}

    clock.set(START_OF_OCT_14)  # the absence is over: the borrowed branch goes back
    assert open_alerts_for(ctx, sun.id) == []
    assert scope_for(ctx, sun.id, admin=False) == {sun.branch_id}


def test_a_missed_fix_date_is_told_to_the_stand_in_of_the_hr_who_acknowledged(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.FINANCE_APPROVAL, OCT_12)
    set_away(ctx, org.hr.id, OCT_13, date(2026, 10, 20), "BJ01-H001")
    clock.set(datetime(2026, 10, 12, 16, 0, tzinfo=UTC))  # 00:00 on 10-13 in Shanghai
    sweep_escalations(ctx)
    (missed,) = notices(ctx, "alert.fix_date_missed")
    assert (missed.to, missed.params["on_behalf_of"]) == ("BJ01-H001", "李四")
