"""Building rosters on the database: batches, records, versions, transfers and HR's card."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.domain.batches import BatchState
from core.domain.directory import Role
from core.domain.errors import NotFound, PermissionDenied
from core.domain.periods import Period
from core.persistence import tables as t
from core.services.batches import approve_batch
from core.services.context import Context
from core.services.review import verify_batch
from core.services.roster import build_roster, scheduled_rosters
from tests.factories import Org, add_branch, add_employee, audit_trail, make_org, notices

NOV = Period(2026, 11)


@pytest.fixture
def org(ctx: Context) -> Org:
    org = make_org(ctx)
    org.others["joiner"] = add_employee(
        ctx, org.branch, "SH01-E002", "孙八", hire_date=date(2026, 11, 3)
    )
    org.others["leaver"] = add_employee(
        ctx,
        org.branch,
        "SH01-E003",
        "周九",
        hire_date=date(2021, 1, 1),
        leave_date=date(2026, 10, 20),
    )
    return org


def lines_of(ctx: Context, batch_id: int) -> dict[int, str | None]:
    with ctx.uow() as uow:
        return {line.employee_id: line.change for line in uow.batches.lines(batch_id)}


def test_a_roster_puts_everyone_employed_on_one_batch_with_records(ctx: Context, org: Org) -> None:
    (outcome,) = build_roster(ctx, NOV)
    assert outcome.action == "created" and outcome.branch_code == "SH01"
    lines = lines_of(ctx, outcome.batch_id or 0)
    assert org.others["leaver"].id not in lines  # left in October: stopped from November
    assert lines[org.others["joiner"].id] == "joiner"
    assert outcome.headcount == 6 and (outcome.joiners, outcome.leavers) == (1, 1)
    assert outcome.total == 6 * (Decimal("2600.00") + Decimal("1050.00"))
    with ctx.uow() as uow:
        batch = uow.batches.get(outcome.batch_id or 0)
        assert batch.state is BatchState.DRAFT and batch.due_date == date(2026, 11, 15)
        records = uow.rosters.records(NOV)
        assert set(records) == set(lines) and not any(r.paid for r in records.values())


def test_hr_gets_the_card_with_counts_and_warnings(ctx: Context, org: Org) -> None:
    build_roster(ctx, NOV)
    (card,) = notices(ctx, "batch.check_requested")
    assert card.to == org.hr.employee_no
    assert [b["action"] for b in card.buttons] == ["batch.verify", "batch.return"]
    assert card.params["joiners"] == 1 and card.params["leavers"] == 1
    assert card.params["headcount"] == 6 and card.params["previous_total"] is None
    # Only 张三 has an ID number in the factory organisation: the others are listed.
    assert card.params["no_id_count"] == 5 and "孙八" in card.params["no_id_names"]


def test_bases_outside_the_bounds_are_shown_to_hr(ctx: Context, org: Org) -> None:
    ctx.rules = ctx.rules.__class__(
        rates=ctx.rules.rates.__class__(base_min=Decimal("12000"), base_max=Decimal("30000"))
    )
    build_roster(ctx, NOV)
    (card,) = notices(ctx, "batch.check_requested")
    assert card.params["outside_count"] == 6


def test_building_again_changes_nothing(ctx: Context, org: Org, clock) -> None:
    from datetime import timedelta

    (first,) = build_roster(ctx, NOV)
    (second,) = build_roster(ctx, NOV)
    assert second.action == "unchanged" and second.batch_id == first.batch_id
    assert len(notices(ctx, "batch.check_requested")) == 1
    # HR asking from chat gets the card again (only they), without a new version.
    clock.advance(timedelta(minutes=1))
    (third,) = build_roster(ctx, NOV, ["SH01"], actor_id=org.hr.id, channel="web")
    assert third.action == "unchanged"
    assert [n.to for n in notices(ctx, "batch.check_requested")] == [org.hr.employee_no] * 2


def test_rebuilding_a_verified_batch_replaces_it_and_hr_checks_again(
    ctx: Context, org: Org
) -> None:
    (first,) = build_roster(ctx, NOV)
    verify_batch(ctx, first.batch_id or 0, org.hr.id)
    add_employee(ctx, org.branch, "SH01-E004", "吴十", hire_date=date(2026, 11, 20))
    (second,) = build_roster(ctx, NOV)
    assert second.action == "replaced" and second.batch_id == first.batch_id
    with ctx.uow() as uow:
        batch = uow.batches.get(first.batch_id or 0)
        assert (batch.state, batch.version, batch.headcount) == (BatchState.DRAFT, 2, 7)
        assert batch.verified_by is None
    assert len(notices(ctx, "batch.check_requested")) == 2
    assert any(n.params.get("decision") == "replaced" for n in notices(ctx, "card.closed"))


def test_an_approved_batch_is_never_changed_silently(ctx: Context, org: Org) -> None:
    (first,) = build_roster(ctx, NOV)
    verify_batch(ctx, first.batch_id or 0, org.hr.id)
    approve_batch(ctx, first.batch_id or 0, org.finance.id)
    before = lines_of(ctx, first.batch_id or 0)
    add_employee(ctx, org.branch, "SH01-E004", "吴十", hire_date=date(2026, 11, 20))
    (again,) = build_roster(ctx, NOV)
    assert again.action == "kept" and again.differences == 1
    assert lines_of(ctx, first.batch_id or 0) == before
    assert [e.action for e in audit_trail(ctx, "batch", first.batch_id or 0)][-1] == "batch.differs"


def test_a_transfer_moves_the_person_off_the_old_unapproved_batch(ctx: Context, org: Org) -> None:
    beijing = add_branch(ctx, "BJ01", "北京分公司", due_day=20)
    mover = org.employee
    build_roster(ctx, NOV)
    with ctx.uow() as uow:
        person = uow.directory.employee(mover.id)
        person.branch_id = beijing.id
        uow.directory.record_move(mover.id, org.branch.id, person.hire_date)
        uow.directory.record_move(mover.id, beijing.id, date(2026, 11, 1))
        uow.commit()
    outcomes = {o.branch_code: o for o in build_roster(ctx, NOV, ["BJ01"])}
    assert outcomes["BJ01"].action == "created" and outcomes["SH01"].action == "replaced"
    assert lines_of(ctx, outcomes["BJ01"].batch_id or 0) == {mover.id: "transfer_in"}
    assert mover.id not in lines_of(ctx, outcomes["SH01"].batch_id or 0)
    assert outcomes["SH01"].transfers_out == 1
    with ctx.uow() as uow:
        (record,) = [r for r in uow.contributions.for_employee(mover.id) if r.period == NOV]
        assert record.due_date == date(2026, 11, 20)  # Beijing's due day now


def test_an_unknown_branch_or_someone_elses_branch_is_refused(ctx: Context, org: Org) -> None:
    with pytest.raises(NotFound):
        build_roster(ctx, NOV, ["XX99"])
    other = add_branch(ctx, "GZ01", "广州分公司")
    with pytest.raises(PermissionDenied):
        build_roster(ctx, NOV, ["GZ01"], actor_id=org.hr.id)
    with pytest.raises(PermissionDenied):
        build_roster(ctx, NOV, ["SH01"], actor_id=org.employee.id)
    with ctx.uow() as uow:
        assert uow.batches.of_period(NOV) == {} and other.id


def test_the_monthly_run_builds_only_missing_batches_from_the_roster_day(
    ctx: Context, org: Org, clock
) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))  # 1 November, 10:00 in Shanghai
    assert [o.action for o in scheduled_rosters(ctx)] == ["created"]
    assert scheduled_rosters(ctx) == []


def test_a_year_of_rosters_holds_every_person_month_once(ctx: Context) -> None:
    """Hires, leavers and transfers on month boundaries, built month by month on the database."""
    sh, bj = add_branch(ctx, "SH01", "上海"), add_branch(ctx, "BJ01", "北京")
    hr = add_employee(ctx, sh, "H1", "人事", Role.HR, responsible_for=[sh, bj])
    people = [
        add_employee(ctx, sh, "P1", "甲", hire_date=date(2026, 1, 1)),
        add_employee(ctx, sh, "P2", "乙", hire_date=date(2026, 3, 31), leave_date=date(2026, 8, 1)),
        add_employee(ctx, bj, "P3", "丙", hire_date=date(2025, 6, 1), leave_date=date(2026, 5, 31)),
        add_employee(ctx, bj, "P4", "丁", hire_date=date(2026, 12, 31)),
    ]
    moves = {"P1": [(date(2026, 4, 1), bj), (date(2026, 9, 30), sh)]}
    with ctx.uow() as uow:
        for person in people:
            for start, branch in [(person.hire_date, person.branch_id)] + [
                (d, b.id) for d, b in moves.get(person.employee_no, [])
            ]:
                uow.directory.record_move(person.id, branch, start)
        uow.commit()
    for month in range(1, 13):
        build_roster(ctx, Period(2026, month))
    with ctx.uow() as uow:
        rows = uow.session.execute(
            select(t.batch_lines.c.employee_id, t.batches.c.period, t.batches.c.branch_id).join(
                t.batches, t.batches.c.id == t.batch_lines.c.batch_id
            )
        ).all()
    seen = Counter((employee_id, str(period)) for employee_id, period, _ in rows)
    assert all(count == 1 for count in seen.values())
    employed = {
        (p.id, str(period))
        for p in [*people, hr]
        for period in (Period(2026, m) for m in range(1, 13))
        if p.employed_in(period)
    }
    assert set(seen) == employed
    branch_of = {(e, str(p)): b for e, p, b in rows}
    assert branch_of[(people[0].id, "2026-04")] == bj.id
    assert branch_of[(people[0].id, "2026-09")] == sh.id  # moved back on the month's last day


def test_rebuilding_a_returned_batch_sends_it_back_to_hr_even_unchanged(
    ctx: Context, org: Org
) -> None:
    from core.services.batches import return_batch

    (built,) = build_roster(ctx, NOV)
    return_batch(ctx, built.batch_id or 0, org.hr.id, "身份证号缺失")
    (again,) = build_roster(ctx, NOV)
    assert again.action == "unchanged"
    with ctx.uow() as uow:
        assert uow.batches.get(built.batch_id or 0).state is BatchState.DRAFT
    assert len(notices(ctx, "batch.check_requested")) == 2
    verify_batch(ctx, built.batch_id or 0, org.hr.id)
