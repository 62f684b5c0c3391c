"""``import employees``: level 1 and 2 checks of the directory, branches, managers, upserts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.domain.directory import Locale, Role
from core.imports.report import Action
from core.persistence.tables import branches, departments, employees
from core.services.context import Context
from tests.integration.imports.helpers import (
    Org,
    id_number,
    rows_of,
    run,
    table_counts,
    where,
    write_csv,
)

HEADER = [
    "employee_no",
    "name",
    "id_number",
    "branch_code",
    "branch_name",
    "department",
    "role",
    "manager_employee_no",
    "email",
    "phone",
    "slack_user_id",
    "telegram_user_id",
    "locale",
    "hire_date",
    "leave_date",
    "contribution_base",
]


def person(number: str, sequence: int, **changes: Any) -> list[str]:
    """A valid row for a new employee of the new Hangzhou branch; ``changes`` spoil it."""
    row = {
        "employee_no": number,
        "name": f"员工{sequence}",
        "id_number": id_number(sequence),
        "branch_code": "HZ01",
        "branch_name": "杭州分公司",
        "department": "研发部",
        "role": "employee",
        "manager_employee_no": "",
        "email": f"{number.lower()}@example.test",
        "phone": "13800000000",
        "slack_user_id": f"U{number}",
        "telegram_user_id": str(1000 + sequence),
        "locale": "",
        "hire_date": "2025-03-01",
        "leave_date": "",
        "contribution_base": "9000",
    } | changes
    return [row[name] for name in HEADER]


def corrected() -> list[list[str]]:
    return [
        person("N001", 11, manager_employee_no="N002", locale="中文"),
        person("N002", 12, role="人事经理", contribution_base="15000.50", locale="en"),
        person(
            "E001",
            1,
            name="张三",
            branch_code="SH01",
            branch_name="",
            department="",
            slack_user_id="UZHANG",
            hire_date="2024-03-01",
            contribution_base="12500",
        ),
    ]


def test_a_file_with_one_error_of_each_kind_reports_them_all_and_writes_nothing(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    bad_check = id_number(21)[:17] + ("0" if id_number(21)[17] != "0" else "1")
    rows = [
        *corrected()[:2],
        person("N003", 21, id_number=bad_check),
        person("N004", 22, id_number="110105199013320011"),
        person("N001", 23, slack_user_id="UDUP"),
        person("N005", 24, id_number=id_number(11)),
        person("N006", 25, telegram_user_id="1011"),
        person("N007", 26, id_number=id_number(2)),
        person("N008", 27, slack_user_id="UZHANG"),
        person("N009", 28, branch_code="ZZ99", branch_name=""),
        person("N010", 29, branch_name="杭州分部"),
        person("N011", 30, manager_employee_no="N999"),
        person("N012", 31, manager_employee_no="N012"),
        person("N013", 32, manager_employee_no="N014"),
        person("N014", 33, manager_employee_no="N013"),
        person("N015", 34, leave_date="2025-01-01"),
        person("N016", 35, role="boss"),
        person("N017", 36, hire_date="2025-02-30"),
        person("N018", 37, contribution_base="-1"),
        person("N019", 38, contribution_base="9000.123"),
        person("N020", 39, email="not-an-address"),
        person("N021", 40, id_number=id_number(40, date(2015, 1, 1))),
        person("N022", 41, name=""),
        person("N023", 42, locale="klingon"),
    ]
    path = write_csv(tmp_path / "bad.csv", [*HEADER, "nickname"], [[*r, ""] for r in rows])
    before = table_counts(ctx)

    result = run(ctx, "employees", path)

    assert where(result) == {
        (1, "nickname", "unknown_column"),
        (4, "id_number", "id_number_check_digit"),
        (5, "id_number", "id_number_birth_date"),
        (6, "employee_no", "duplicate_in_file"),
        (7, "id_number", "duplicate_in_file"),
        (8, "telegram_user_id", "duplicate_in_file"),
        (9, "id_number", "taken_in_database"),
        (10, "slack_user_id", "taken_in_database"),
        (11, "branch_code", "unknown_branch"),
        (12, "branch_name", "branch_name_conflict"),
        (13, "manager_employee_no", "unknown_manager"),
        (14, "manager_employee_no", "manager_self"),
        (15, "manager_employee_no", "manager_loop"),
        (16, "manager_employee_no", "manager_loop"),
        (17, "leave_date", "leave_before_hire"),
        (18, "role", "unknown_choice"),
        (19, "hire_date", "bad_date"),
        (20, "contribution_base", "negative_amount"),
        (21, "contribution_base", "too_many_decimals"),
        (22, "email", "bad_email"),
        (23, "hire_date", "too_young_at_hire"),
        (24, "name", "required"),
        (25, "locale", "unknown_choice"),
    }
    assert table_counts(ctx) == before
    shown = {issue.value for issue in result.issues if issue.column == "id_number"}
    assert all("*" in value for value in shown), "ID numbers are never shown whole"


def test_the_corrected_file_is_imported_and_a_second_import_changes_nothing(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "good.csv", HEADER, corrected())

    first = run(ctx, "employees", path)

    assert first.ok and first.written
    assert (first.counts.created, first.counts.updated, first.counts.unchanged) == (2, 1, 0)
    assert first.related["branches"].created == 1
    assert first.related["departments"].created == 1
    stored = {row["employee_no"]: row for row in rows_of(ctx, employees)}
    hangzhou = next(b for b in rows_of(ctx, branches) if b["code"] == "HZ01")
    assert hangzhou["name"] == "杭州分公司"
    assert [d["name"] for d in rows_of(ctx, departments)] == ["研发部"]
    assert stored["N001"]["manager_id"] == stored["N002"]["id"]
    assert stored["N001"]["branch_id"] == hangzhou["id"]
    assert stored["N001"]["locale"] is Locale.ZH_CN
    assert stored["N002"]["role"] is Role.HR_MANAGER
    assert stored["N002"]["contribution_base"] == Decimal("15000.50")
    assert stored["E001"]["contribution_base"] == Decimal("12500.00")
    assert stored["E001"]["slack_user_id"] == "UZHANG"

    again = run(ctx, "employees", path)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 3)
    assert again.related["branches"].created == 0
    assert {row["employee_no"]: row for row in rows_of(ctx, employees)} == stored


def test_two_employees_may_swap_chat_ids(ctx: Context, org: Org, tmp_path: Path) -> None:
    header = ["employee_no", "name", "id_number", "branch_code", "hire_date", "slack_user_id"]
    rows = [
        ["E001", "张三", id_number(1), "SH01", "2024-03-01", "ULI"],
        ["E002", "李四", id_number(2), "SH01", "2020-01-01", "UZHANG"],
    ]

    result = run(ctx, "employees", write_csv(tmp_path / "a.csv", header, rows))

    assert result.ok and result.counts.updated == 2
    stored = {row["employee_no"]: row["slack_user_id"] for row in rows_of(ctx, employees)}
    assert stored == {"E001": "ULI", "E002": "UZHANG"}


def test_columns_left_out_are_kept_and_blank_cells_clear(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    header = ["employee_no", "name", "id_number", "branch_code", "hire_date", "leave_date"]
    rows = [["E002", "李四", id_number(2), "SH01", "2020-01-01", ""]]  # re-hired: no leave date

    result = run(ctx, "employees", write_csv(tmp_path / "a.csv", header, rows))

    assert result.counts.updated == 1
    li = next(row for row in rows_of(ctx, employees) if row["employee_no"] == "E002")
    assert li["leave_date"] is None
    assert li["role"] is Role.HR  # no role column: the stored role stays


def test_the_sample_masks_id_numbers(ctx: Context, org: Org, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "good.csv", HEADER, corrected())

    result = run(ctx, "employees", path, dry_run=True)

    assert len(result.sample) == 3
    actions = {row.values["employee_no"]: row.action for row in result.sample}
    assert actions == {"N001": Action.CREATE, "N002": Action.CREATE, "E001": Action.UPDATE}
    for row in result.sample:
        assert row.values["id_number"].count("*") == 10
    assert table_counts(ctx)["employees"] == 2
