"""``import budgets``: branch_code, period, amount; upserted by branch and month."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from core.domain.periods import Period
from core.persistence.tables import budgets
from core.services.context import Context
from tests.integration.imports.helpers import Org, rows_of, run, table_counts, where, write_csv

HEADER = ["分支机构代码", "所属期", "预算金额"]


def test_errors_of_each_kind_are_reported_and_nothing_is_written(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    rows = [
        ["SH01", "2026-10", "500000"],
        ["XX01", "2026-10", "1"],
        ["SH01", "2026-11", "-1"],
        ["SH01", "2026-10", "2"],
        ["SH01", "2026-12", "1.001"],
        ["SH01", "december", "1"],
    ]

    result = run(ctx, "budgets", write_csv(tmp_path / "a.csv", HEADER, rows))

    assert where(result) == {
        (3, "分支机构代码", "unknown_branch"),
        (4, "预算金额", "negative_amount"),
        (5, "所属期", "duplicate_in_file"),
        (6, "预算金额", "too_many_decimals"),
        (7, "所属期", "bad_period"),
    }
    assert table_counts(ctx)["budgets"] == 0


def test_budgets_are_upserted_by_branch_and_month(ctx: Context, org: Org, tmp_path: Path) -> None:
    rows = [["SH01", "2026-10", "500,000.00"], ["SH01", "2026年11月", "510000"]]
    path = write_csv(tmp_path / "a.csv", HEADER, rows)

    first = run(ctx, "budgets", path)
    again = run(ctx, "budgets", path)
    rows[1][2] = "520000"
    changed = run(ctx, "budgets", write_csv(tmp_path / "b.csv", HEADER, rows))

    assert (first.counts.created, again.counts.unchanged) == (2, 2)
    assert (changed.counts.created, changed.counts.updated, changed.counts.unchanged) == (0, 1, 1)
    stored = [(r["branch_id"], r["period"], r["amount"]) for r in rows_of(ctx, budgets)]
    assert stored == [
        (org.branch.id, Period(2026, 10), Decimal("500000.00")),
        (org.branch.id, Period(2026, 11), Decimal("520000.00")),
    ]
    totals = {(t.branch_code, t.period): t.sums["amount"] for t in changed.totals}
    assert totals == {
        ("SH01", "2026-10"): Decimal("500000"),
        ("SH01", "2026-11"): Decimal("520000"),
    }
