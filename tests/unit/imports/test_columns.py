"""Level 1, the header: names, Chinese aliases, and what is missing, unknown or doubled."""

from __future__ import annotations

from core.imports.columns import BUDGETS, CONTRIBUTIONS, EMPLOYEES, SCHEMAS, map_header


def test_headers_are_matched_by_name_or_alias_folded() -> None:
    header = ["工号", "Name", " ID-Number ", "分支机构代码*", "入职日期（必填）", "ＥＭＡＩＬ"]

    bound, issues = map_header(EMPLOYEES, header)

    assert [(index, column.name) for index, column in bound] == [
        (0, "employee_no"),
        (1, "name"),
        (2, "id_number"),
        (3, "branch_code"),
        (4, "hire_date"),
        (5, "email"),
    ]
    assert issues == []


def test_unknown_doubled_and_missing_columns_are_all_named() -> None:
    bound, issues = map_header(CONTRIBUTIONS, ["工号", "employee_no", "所属期", "备注", None, ""])

    assert [column.name for _, column in bound] == ["employee_no", "period"]
    found = {(issue.column, issue.code) for issue in issues}
    assert found == {
        ("employee_no", "duplicate_column"),
        ("备注", "unknown_column"),
        ("base", "missing_column"),
        ("employer_amount", "missing_column"),
        ("employee_amount", "missing_column"),
        ("due_date", "missing_column"),
    }


def test_the_same_word_may_mean_different_columns_in_different_files() -> None:
    in_employees, in_contributions = (
        EMPLOYEES.column_for("缴费基数"),
        CONTRIBUTIONS.column_for("缴费基数"),
    )
    assert in_employees is not None and in_employees.name == "contribution_base"
    assert in_contributions is not None and in_contributions.name == "base"


def test_every_schema_follows_the_contract() -> None:
    assert [c.name for c in EMPLOYEES.columns] == [
        "employee_no", "name", "id_number", "branch_code", "branch_name", "department", "role",
        "manager_employee_no", "email", "phone", "slack_user_id", "telegram_user_id", "locale",
        "hire_date", "leave_date", "contribution_base",
    ]  # fmt: skip
    assert [c.name for c in CONTRIBUTIONS.columns] == [
        "employee_no", "period", "base", "employer_amount", "employee_amount", "due_date",
        "paid_date", "delay_reason",
    ]  # fmt: skip
    assert [c.name for c in BUDGETS.columns] == ["branch_code", "period", "amount"]
    for schema in SCHEMAS.values():
        aliases = [a for c in schema.columns for a in (c.name, *c.aliases)]
        assert len(aliases) == len(set(aliases)), f"an alias names two columns of {schema.kind}"
