"""``import contributions``: every error reported, nothing half-written, re-imports idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain.periods import Period
from core.imports import contributions as contributions_module
from core.imports.report import Action
from core.persistence.tables import contributions
from core.services.context import Context
from tests.integration.imports.helpers import Org, rows_of, run, table_counts, where, write_csv

HEADER = [
    "employee_no",
    "period",
    "base",
    "employer_amount",
    "employee_amount",
    "due_date",
    "paid_date",
    "delay_reason",
]
GOOD = [
    ["E001", "2026-08", "12000", "3120.00", "1260.00", "2026-08-15", "2026-08-10", ""],
    ["E001", "2026-09", "12000", "3120.00", "1260.00", "2026-09-15", "", "finance_approval"],
    ["E002", "2026-06", "9800.5", "2548.13", "1029.05", "2026-06-15", "2026-06-20", "bank_failure"],
]


def test_a_file_with_one_error_of_each_kind_reports_them_all_and_writes_nothing(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    rows = [
        GOOD[0],
        ["E001", "2026-09", "12000", "3120", "1260", "2026-09-15", "2026-10-20", ""],
        ["E999", "2026-08", "12000", "3120", "1260", "2026-08-15", "", ""],
        ["E002", "2026-08", "9800", "2548", "1029", "2026-08-15", "", ""],
        ["E001", "2026-08", "12000", "3120", "1260", "2026-08-15", "", ""],
        ["E001", "2026-07", "12000", "-1", "1260", "2026-07-15", "", ""],
        ["E001", "2026-06", "1000", "3120", "1260", "2026-06-15", "", ""],
        ["E001", "2026/13", "12000", "3120", "1260", "2026-05-15", "", ""],
        ["E001", "2026-04", "12000", "3120", "1260", "15/04/2026", "", ""],
        ["E001", "2026-03", "12000", "3120", "1260.005", "2026-03-15", "", ""],
        ["E001", "2026-02", "12000", "3120", "1260", "2026-02-15", "", "lazy"],
        ["E001", "2026-01", "12000", "", "1260", "2026-01-15", "", ""],
        ["E001", "2024-01", "12000", "3120", "1260", "2024-01-15", "", ""],
        ["E001", "2025-12", "12 000,5", "3120", "1260", "2025-12-15", "", ""],
    ]
    path = write_csv(tmp_path / "bad.csv", [*HEADER, "备注"], [[*r, ""] for r in rows])
    before = table_counts(ctx)

    result = run(ctx, "contributions", path)

    assert where(result) == {
        (1, "备注", "unknown_column"),
        (3, "paid_date", "paid_in_future"),
        (4, "employee_no", "unknown_employee"),
        (5, "period", "outside_employment"),
        (6, "period", "duplicate_in_file"),
        (7, "employer_amount", "negative_amount"),
        (8, "base", "amounts_exceed_base"),
        (9, "period", "bad_period"),
        (10, "due_date", "bad_date"),
        (11, "employee_amount", "too_many_decimals"),
        (12, "delay_reason", "unknown_choice"),
        (13, "employer_amount", "required"),
        (14, "period", "outside_employment"),
        (15, "base", "bad_amount"),
    }
    assert not result.ok and not result.written
    assert table_counts(ctx) == before
    duplicate = next(i for i in result.issues if i.code == "duplicate_in_file")
    assert duplicate.params == {"first": 2}


def test_the_corrected_file_is_imported_and_a_second_import_changes_nothing(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "good.csv", HEADER, GOOD)

    first = run(ctx, "contributions", path)
    assert first.ok and first.written
    assert (first.counts.created, first.counts.updated, first.counts.unchanged) == (3, 0, 0)
    stored = rows_of(ctx, contributions)
    assert [(r["employee_id"], r["period"]) for r in stored] == [
        (org.zhang.id, Period(2026, 8)),
        (org.zhang.id, Period(2026, 9)),
        (org.li.id, Period(2026, 6)),
    ]
    assert stored[2]["base"] == Decimal("9800.50")
    assert stored[2]["paid_date"] == date(2026, 6, 20)
    assert stored[1]["delay_reason"] == "finance_approval"

    again = run(ctx, "contributions", path)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 3)
    assert rows_of(ctx, contributions) == stored


def test_a_changed_row_is_updated_in_place(ctx: Context, org: Org, tmp_path: Path) -> None:
    run(ctx, "contributions", write_csv(tmp_path / "a.csv", HEADER, GOOD))
    paid = [GOOD[0], [*GOOD[1][:6], "2026-10-09", "finance_approval"], GOOD[2]]

    result = run(ctx, "contributions", write_csv(tmp_path / "b.csv", HEADER, paid))

    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (0, 1, 2)
    stored = rows_of(ctx, contributions)
    assert len(stored) == 3
    assert stored[1]["paid_date"] == date(2026, 10, 9)


def test_a_column_left_out_keeps_the_stored_values(ctx: Context, org: Org, tmp_path: Path) -> None:
    run(ctx, "contributions", write_csv(tmp_path / "a.csv", HEADER, GOOD))
    short = [row[:6] for row in GOOD]

    result = run(ctx, "contributions", write_csv(tmp_path / "b.csv", HEADER[:6], short))

    assert result.ok and result.counts.unchanged == 3
    assert rows_of(ctx, contributions)[0]["paid_date"] == date(2026, 8, 10)


def test_a_missing_required_column_is_named(ctx: Context, org: Org, tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "due_date"]
    rows = [[cell for i, cell in enumerate(row) if i != 5] for row in GOOD]

    result = run(ctx, "contributions", write_csv(tmp_path / "a.csv", header, rows))

    assert where(result) == {(1, "due_date", "missing_column")}
    assert table_counts(ctx)["contributions"] == 0


def test_a_dry_run_counts_but_writes_nothing(ctx: Context, org: Org, tmp_path: Path) -> None:
    result = run(ctx, "contributions", write_csv(tmp_path / "a.csv", HEADER, GOOD), dry_run=True)

    assert result.ok and not result.written
    assert result.counts.created == 3
    assert table_counts(ctx)["contributions"] == 0


def test_an_error_after_chunks_were_written_rolls_them_all_back(
    ctx: Context, org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contributions_module, "CHUNK", 2)  # GOOD is written before the error
    rows = [*GOOD, ["E001", "2026-10", "12000", "3120", "1260", "2026-10-15", "2027-01-01", ""]]

    result = run(ctx, "contributions", write_csv(tmp_path / "a.csv", HEADER, rows))

    assert where(result) == {(5, "paid_date", "paid_in_future")}
    assert table_counts(ctx)["contributions"] == 0


def test_many_rows_across_chunks(
    ctx: Context, org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contributions_module, "CHUNK", 7)
    months = [Period(2024, 3).shift(n) for n in range(30)]
    rows = [
        ["E001", str(m), "10000", "2600", "1050", str(m.day(15)), str(m.day(10)), ""]
        for m in months
    ]
    path = write_csv(tmp_path / "a.csv", HEADER, rows)

    assert run(ctx, "contributions", path).counts.created == 30
    rows[12][6] = ""
    again = run(ctx, "contributions", write_csv(tmp_path / "b.csv", HEADER, rows))
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 1, 29)


def test_the_review_holds_a_seeded_sample_and_totals_per_branch_and_month(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", HEADER, GOOD)

    whole = run(ctx, "contributions", path, dry_run=True, sample_size=10)
    first = run(ctx, "contributions", path, dry_run=True, sample_size=2, seed=42)
    second = run(ctx, "contributions", path, dry_run=True, sample_size=2, seed=42)

    assert [row.line for row in whole.sample] == [2, 3, 4]
    assert whole.sample[2].action is Action.CREATE
    assert whole.sample[2].values == {
        "employee_no": "E002",
        "period": "2026-06",
        "base": "9800.50",
        "employer_amount": "2548.13",
        "employee_amount": "1029.05",
        "due_date": "2026-06-15",
        "paid_date": "2026-06-20",
        "delay_reason": "bank_failure",
    }
    assert first.sample == second.sample and len(first.sample) == 2
    totals = {(t.branch_code, t.period): (t.rows, t.sums["base"]) for t in whole.totals}
    assert totals == {
        ("SH01", "2026-06"): (1, Decimal("9800.50")),
        ("SH01", "2026-08"): (1, Decimal("12000.00")),
        ("SH01", "2026-09"): (1, Decimal("12000.00")),
    }
