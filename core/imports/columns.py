"""Level 1, the header: the columns of each import (CONTRACT.md), their Chinese aliases, and how
a file's header is mapped onto them.

A column missing from the file is an error when it is required. An unknown column is an error
too, not something to skip: a misspelt optional column ("leave_dat") would otherwise drop its data
without a word. Headers are matched with case, width and separators folded, so ``Employee No``,
``employee-no`` and ``工号`` all name ``employee_no``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.domain.contributions import DelayReason
from core.domain.directory import Locale, Role
from core.imports import fields as f
from core.imports.sources import Cell


@dataclass(frozen=True)
class Column:
    name: str
    parse: f.Parser
    required: bool = False
    """The file must have the column and every row a value in it."""
    aliases: tuple[str, ...] = ()
    empty: Any = None
    """The value of a blank cell in an optional column."""


@dataclass(frozen=True)
class Schema:
    kind: str
    columns: tuple[Column, ...]
    _by_header: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup = {}
        for column in self.columns:
            for header in (column.name, *column.aliases):
                lookup[normalize_header(header)] = column
        object.__setattr__(self, "_by_header", lookup)

    def column_for(self, header: str) -> Column | None:
        return self._by_header.get(normalize_header(header))


@dataclass(frozen=True)
class HeaderIssue:
    column: str
    code: str
    params: dict[str, object] = field(default_factory=dict)


def normalize_header(header: str) -> str:
    # Templates often mark required columns with "*" or "（必填）"; neither is part of the name.
    # (``fold`` has already turned the full-width brackets into ASCII ones.)
    name = f.fold(header).replace("*", "").replace("(必填)", "")
    return name.strip("_")


def map_header(
    schema: Schema, header: Sequence[Cell]
) -> tuple[list[tuple[int, Column]], list[HeaderIssue]]:
    """The file's columns as (index in the row, column), and what is wrong with the header."""
    bound: list[tuple[int, Column]] = []
    issues: list[HeaderIssue] = []
    seen: dict[str, str] = {}
    for index, cell in enumerate(header):
        if f.is_blank(cell):
            continue
        title = str(cell).strip()
        column = schema.column_for(title)
        if column is None:
            issues.append(HeaderIssue(title, "unknown_column", {"known": _known(schema)}))
        elif column.name in seen:
            issues.append(HeaderIssue(title, "duplicate_column", {"first": seen[column.name]}))
        else:
            seen[column.name] = title
            bound.append((index, column))
    for column in schema.columns:
        if column.required and column.name not in seen:
            issues.append(HeaderIssue(column.name, "missing_column"))
    return bound, issues


def _known(schema: Schema) -> str:
    return ", ".join(column.name for column in schema.columns)


# The value aliases a Chinese spreadsheet is likely to hold, folded as ``fields.fold`` folds.
ROLES: dict[str, Role] = {r.value: r for r in Role} | {
    "员工": Role.EMPLOYEE,
    "普通员工": Role.EMPLOYEE,
    "人事": Role.HR,
    "人事专员": Role.HR,
    "人事经理": Role.HR_MANAGER,
    "人力资源经理": Role.HR_MANAGER,
    "人事总监": Role.HR_DIRECTOR,
    "人力资源总监": Role.HR_DIRECTOR,
    "财务": Role.FINANCE,
}
LOCALES: dict[str, Locale] = {
    "zh_cn": Locale.ZH_CN,
    "zh": Locale.ZH_CN,
    "中文": Locale.ZH_CN,
    "简体中文": Locale.ZH_CN,
    "en": Locale.EN,
    "english": Locale.EN,
    "英文": Locale.EN,
    "英语": Locale.EN,
}
DELAY_REASONS: dict[str, DelayReason] = {r.value: r for r in DelayReason} | {
    "财务审批": DelayReason.FINANCE_APPROVAL,
    "人事核实": DelayReason.HR_VERIFICATION,
    "人事审核": DelayReason.HR_VERIFICATION,
    "社保系统故障": DelayReason.BUREAU_SYSTEM,
    "社保局系统故障": DelayReason.BUREAU_SYSTEM,
    "银行扣款失败": DelayReason.BANK_FAILURE,
    "数据错误": DelayReason.DATA_ERROR,
    "其他": DelayReason.OTHER,
}

_EMPLOYEE_NO = ("工号", "员工编号", "员工工号", "职工编号")
_BRANCH_CODE = ("分支机构代码", "分公司代码", "机构代码")
_PERIOD = ("所属期", "费款所属期", "缴费月份", "所属月份", "月份")

EMPLOYEES = Schema(
    "employees",
    (
        Column("employee_no", f.identifier(32), True, _EMPLOYEE_NO),
        Column("name", f.text(200), True, ("姓名", "员工姓名")),
        Column("id_number", f.id_number, True, ("身份证号", "身份证号码", "证件号码")),
        Column("branch_code", f.identifier(32), True, _BRANCH_CODE),
        Column("branch_name", f.text(200), False, ("分支机构名称", "分公司名称", "机构名称")),
        Column("department", f.text(200), False, ("部门", "所属部门")),
        Column("role", f.choice(ROLES), False, ("角色", "岗位角色"), Role.EMPLOYEE),
        Column("manager_employee_no", f.identifier(32), False, ("上级工号", "直属上级工号")),
        Column("email", f.email, False, ("邮箱", "电子邮箱", "电子邮件")),
        Column("phone", f.phone, False, ("手机", "手机号", "手机号码", "联系电话")),
        Column("slack_user_id", f.identifier(32), False, ("Slack用户ID", "slack_id")),
        Column("telegram_user_id", f.identifier(32), False, ("Telegram用户ID", "telegram_id")),
        Column("locale", f.choice(LOCALES), False, ("语言",)),
        Column("hire_date", f.day, True, ("入职日期",)),
        Column("leave_date", f.day, False, ("离职日期",)),
        Column("contribution_base", f.money, False, ("缴费基数", "社保基数")),
    ),
)

CONTRIBUTIONS = Schema(
    "contributions",
    (
        Column("employee_no", f.identifier(32), True, _EMPLOYEE_NO),
        Column("period", f.month, True, _PERIOD),
        Column("base", f.money, True, ("缴费基数", "社保基数")),
        Column("employer_amount", f.money, True, ("单位缴费", "单位缴费金额", "单位部分")),
        Column("employee_amount", f.money, True, ("个人缴费", "个人缴费金额", "个人部分")),
        Column("due_date", f.day, True, ("缴费截止日", "截止日期", "应缴日期")),
        Column("paid_date", f.day, False, ("缴费日期", "实缴日期", "到账日期")),
        Column("delay_reason", f.choice(DELAY_REASONS), False, ("延迟原因", "逾期原因")),
    ),
)

BUDGETS = Schema(
    "budgets",
    (
        Column("branch_code", f.identifier(32), True, _BRANCH_CODE),
        Column("period", f.month, True, (*_PERIOD, "预算月份")),
        Column("amount", f.money, True, ("预算金额", "预算", "金额")),
    ),
)

SCHEMAS = {schema.kind: schema for schema in (EMPLOYEES, CONTRIBUTIONS, BUDGETS)}
