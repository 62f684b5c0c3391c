"""The demo organisation: four branches, the seed's people and a year of contributions.

Everything is dated relative to ``today`` so the story holds whenever ``make run`` loads it: in
Zhang San's branch (Shanghai) the two most recent months past their due date are unpaid because
finance has not approved them; Beijing has one month unpaid for a data error; Chengdu once paid
late; Guangzhou has a new joiner and a leaver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core.domain.batches import BatchLine, BatchState, ContributionBatch
from core.domain.contributions import ContributionRecord, DelayReason
from core.domain.directory import Branch, Department, Employee, Locale, Role
from core.domain.idnumbers import make_id_number
from core.domain.periods import Period, window
from core.persistence.uow import UnitOfWork

EMPLOYER_RATE = Decimal("0.26")
EMPLOYEE_RATE = Decimal("0.105")
CENT = Decimal("0.01")

BRANCHES = (
    ("SH01", "上海分公司", "上海", "华东", 15),
    ("BJ01", "北京分公司", "北京", "华北", 15),
    ("GZ01", "广州分公司", "广州", "华南", 20),
    ("CD01", "成都分公司", "成都", "西南", 15),
)


@dataclass(frozen=True)
class Person:
    employee_no: str
    name: str
    branch: str
    role: Role
    base: int
    hired: date
    slack: str | None = None
    telegram: str | None = None
    locale: Locale | None = None
    answers_for: tuple[str, ...] = ()
    left: date | None = None
    email: str | None = None
    phone: str | None = None


def people(today: date) -> tuple[Person, ...]:
    month_start = today.replace(day=1)
    return (
        Person(
            "E1001",
            "张三",
            "SH01",
            Role.EMPLOYEE,
            12000,
            date(2021, 3, 1),
            "U0ZHANGSAN",
            "1001001",
            phone="13800001001",
            email="zhangsan@example.com",
        ),
        Person("E1002", "李四", "SH01", Role.EMPLOYEE, 9800, date(2022, 7, 1), "U0LISI", "1001002"),
        Person(
            "E1003",
            "Emily Chen",
            "SH01",
            Role.EMPLOYEE,
            15000,
            date(2023, 2, 1),
            "U0EMILY",
            "1001003",
            Locale.EN,
        ),
        Person(
            "H2001",
            "王芳",
            "SH01",
            Role.HR,
            11000,
            date(2019, 5, 6),
            "U0WANGFANG",
            "2002001",
            answers_for=("SH01", "BJ01"),
            email="wangfang@example.com",
        ),
        Person(
            "H2002",
            "赵敏",
            "GZ01",
            Role.HR,
            10500,
            date(2020, 9, 1),
            "U0ZHAOMIN",
            "2002002",
            answers_for=("GZ01", "CD01"),
            email="zhaomin@example.com",
        ),
        Person(
            "M3001",
            "刘强",
            "SH01",
            Role.HR_MANAGER,
            18000,
            date(2017, 4, 1),
            "U0LIUQIANG",
            "3003001",
            answers_for=("SH01", "BJ01", "GZ01", "CD01"),
            email="liuqiang@example.com",
        ),
        Person(
            "D4001",
            "陈静",
            "SH01",
            Role.HR_DIRECTOR,
            26000,
            date(2015, 1, 5),
            "U0CHENJING",
            "4004001",
            email="chenjing@example.com",
        ),
        Person(
            "F5001",
            "孙丽",
            "SH01",
            Role.FINANCE,
            14000,
            date(2018, 8, 1),
            "U0SUNLI",
            "5005001",
            answers_for=("SH01", "BJ01"),
            email="sunli@example.com",
        ),
        Person(
            "F5002",
            "周杰",
            "GZ01",
            Role.FINANCE,
            13500,
            date(2019, 11, 1),
            "U0ZHOUJIE",
            "5005002",
            answers_for=("GZ01", "CD01"),
            email="zhoujie@example.com",
        ),
        Person("E1101", "钱伟", "BJ01", Role.EMPLOYEE, 13000, date(2020, 1, 6), "U0QIANWEI"),
        Person("E1102", "吴霞", "BJ01", Role.EMPLOYEE, 8800, date(2021, 10, 8), "U0WUXIA"),
        Person("E1201", "郑浩", "GZ01", Role.EMPLOYEE, 9000, month_start, "U0ZHENGHAO"),
        Person(
            "E1202",
            "冯雪",
            "GZ01",
            Role.EMPLOYEE,
            9500,
            date(2022, 3, 1),
            "U0FENGXUE",
            left=month_start - timedelta(days=40),
        ),
        Person(
            "E1301",
            "何磊",
            "CD01",
            Role.EMPLOYEE,
            8000,
            date(2020, 6, 1),
            "U0HELEI",
            locale=Locale.ZH_CN,
        ),
    )


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def load_demo_org(uow: UnitOfWork, today: date, now: datetime, months: int = 12) -> None:
    """Insert the demo organisation into an empty database (the caller commits)."""
    branches = {}
    for code, name, city, region, due_day in BRANCHES:
        branch = Branch(code=code, name=name, city=city, region=region, due_day=due_day)
        uow.directory.add(branch)
        branches[code] = branch
    uow.flush()
    departments = {}
    for code, branch in branches.items():
        department = Department(branch_id=branch.id, name="综合部")
        uow.directory.add(department)
        departments[code] = department
    uow.flush()
    staff = []
    for index, person in enumerate(people(today)):
        born = date(1985 + index % 12, 1 + index % 12, 1 + index)
        employee = Employee(
            employee_no=person.employee_no,
            name=person.name,
            branch_id=branches[person.branch].id,
            hire_date=person.hired,
            role=person.role,
            id_number=make_id_number("110101", born, 100 + index),
            department_id=departments[person.branch].id,
            email=person.email,
            phone=person.phone,
            slack_user_id=person.slack,
            telegram_user_id=person.telegram,
            locale=person.locale,
            leave_date=person.left,
            contribution_base=Decimal(person.base),
        )
        uow.directory.add(employee)
        staff.append((person, employee))
    uow.flush()
    for person, employee in staff:
        for code in person.answers_for:
            uow.directory.assign(employee, branches[code])
    _contributions(uow, branches, [e for _, e in staff], today, now, months)


def _contributions(
    uow: UnitOfWork,
    branches: dict[str, Branch],
    staff: list[Employee],
    today: date,
    now: datetime,
    months: int,
) -> None:
    periods = window(Period.of(today), months)
    by_branch_id = {b.id: code for code, b in branches.items()}
    for code, branch in branches.items():
        due = [p for p in periods if p.day(branch.due_day) < today]
        unpaid_finance = set(due[-2:]) if code == "SH01" else set()
        for period in periods:
            due_date = period.day(branch.due_day)
            batch_state = _batch_state(period, due_date, today, unpaid_finance)
            batch = ContributionBatch(
                branch_id=branch.id,
                period=period,
                due_date=due_date,
                created_at=now,
                state=batch_state,
            )
            if batch_state is BatchState.PAID:
                batch.paid_date = _paid_date(code, period, due, due_date)
            uow.batches.add(batch)
            uow.flush()
            lines = []
            for employee in staff:
                if by_branch_id[employee.branch_id] != code or not employee.employed_in(period):
                    continue
                record = _record(employee, period, due_date, batch, code, due, unpaid_finance)
                uow.contributions.add(record)
                uow.flush()
                if record.delay_reason is DelayReason.DATA_ERROR:
                    continue  # left out of the batch until HR corrects the data
                line = BatchLine(
                    batch_id=batch.id,
                    employee_id=employee.id,
                    contribution_id=record.id,
                    base=record.base,
                    employer_amount=record.employer_amount,
                    employee_amount=record.employee_amount,
                )
                uow.batches.add(line)
                lines.append(line)
            batch.set_totals(lines)


def _batch_state(period: Period, due_date: date, today: date, unpaid: set[Period]) -> BatchState:
    if period in unpaid:
        return BatchState.FINANCE_PENDING
    return BatchState.PAID if due_date < today else BatchState.DRAFT


def _paid_date(code: str, period: Period, due: list[Period], due_date: date) -> date:
    if code == "CD01" and len(due) >= 5 and period == due[-5]:
        return due_date + timedelta(days=6)  # Chengdu paid one month late, bank debit failed
    return due_date - timedelta(days=3)


def _record(
    employee: Employee,
    period: Period,
    due_date: date,
    batch: ContributionBatch,
    code: str,
    due: list[Period],
    unpaid: set[Period],
) -> ContributionRecord:
    base = employee.contribution_base or Decimal("0")
    record = ContributionRecord(
        employee_id=employee.id,
        period=period,
        base=base,
        employer_amount=_money(base * EMPLOYER_RATE),
        employee_amount=_money(base * EMPLOYEE_RATE),
        due_date=due_date,
        paid_date=batch.paid_date,
    )
    if period in unpaid:
        record.delay_reason = DelayReason.FINANCE_APPROVAL
    elif code == "CD01" and batch.paid_date and batch.paid_date > due_date:
        record.delay_reason = DelayReason.BANK_FAILURE
    elif employee.employee_no == "E1102" and len(due) >= 4 and period == due[-4]:
        record.paid_date, record.delay_reason = None, DelayReason.DATA_ERROR
    return record
