"""A new branch code for an existing employee is a transfer: the roster follows it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from core.domain.periods import Period
from core.services.context import Context
from core.services.roster import build_roster
from tests.integration.imports.helpers import Org, id_number, run, write_csv

HEADER = ["employee_no", "name", "id_number", "branch_code", "branch_name", "hire_date"]


def test_a_changed_branch_code_moves_the_roster_from_the_import_month(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    build_roster(ctx, Period(2026, 9))  # 张三 on Shanghai's September roster
    moved = write_csv(
        tmp_path / "moved.csv",
        HEADER,
        [["E001", "张三", id_number(1), "BJ01", "北京分公司", "2024-03-01"]],
    )
    result = run(ctx, "employees", moved)
    assert not result.issues
    with ctx.uow() as uow:
        history = [(m.start_date, m.branch_id) for m in uow.directory.moves_of(org.zhang.id)]
        beijing = uow.directory.branch_by_code("BJ01")
        assert beijing is not None
        assert history == [(date(2024, 3, 1), org.branch.id), (ctx.today(), beijing.id)]
    september = {o.branch_code: o for o in build_roster(ctx, Period(2026, 9))}
    october = {o.branch_code: o for o in build_roster(ctx, Period(2026, 10))}
    assert september["SH01"].action == "unchanged" and september["BJ01"].action == "empty"
    assert october["BJ01"].transfers_in == 1 and october["SH01"].transfers_out == 1
    # Importing the same file again is not a second transfer.
    run(ctx, "employees", moved)
    with ctx.uow() as uow:
        assert len(uow.directory.moves_of(org.zhang.id)) == 2
