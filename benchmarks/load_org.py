"""The load test's organisation: the demo organisation plus people enough for many users.

``add_people`` puts them in the fleet's database before its processes start: employees on
Telegram, half in Shanghai (their last months unpaid because finance has not approved them, so
their claims are held and HR is alerted), half in Beijing (paid, so their claims go to finance's
review); HR and finance staff on Slack answering for both branches. ``documents`` are the files
employees upload, about the size of a phone's scan.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from core.persistence import tables as t
from tests.fleet_support import Fleet
from tests.upload_samples import jpeg, png

TELEGRAM_IDS = 91_000_000


def add_people(crew: Fleet, employees: int, staff: int) -> dict[str, Any]:
    """Employees in Shanghai (late) and Beijing (paid), HR and finance for both, on the fleet's
    database before it starts; returns who is who, and the first alert id of the run."""
    from bot.bootstrap import build
    from bot.settings import Settings
    from core.domain.directory import Role
    from tests.factories import consent_all
    from tests.fleet_support import fleet_encryption_key

    key = fleet_encryption_key()  # the fleet's processes must open what this seals
    services = build(Settings(_env_file=None, database_url=crew.database_url, encryption_key=key))
    today = services.ctx.today()
    hired = (today.replace(day=1) - timedelta(days=40)).replace(day=1)  # two months back
    people: dict[str, Any] = {"employees": [], "hr": [], "finance": []}
    with services.ctx.uow() as uow:
        shanghai, beijing = (uow.directory.branch_by_code(c) for c in ("SH01", "BJ01"))
        assert shanghai is not None and beijing is not None
        for n in range(employees):
            branch = shanghai if n % 2 == 0 else beijing
            person = _employee(f"L{n:05d}", branch.id, Role.EMPLOYEE, hired, n)
            person.telegram_user_id = str(TELEGRAM_IDS + n)
            uow.directory.add(person)
            uow.flush()
            _contributions(uow, person.id, branch, today, late=branch is shanghai)
            people["employees"].append(TELEGRAM_IDS + n)
        for n in range(staff):
            for pool, role, prefix in (("hr", Role.HR, "H"), ("finance", Role.FINANCE, "F")):
                serial = 90_000 + 2 * n + (prefix == "F")
                person = _employee(f"{prefix}9{n:03d}", shanghai.id, role, hired, serial)
                person.slack_user_id = f"U9{prefix}{n:04d}"
                uow.directory.add(person)
                uow.flush()
                uow.directory.assign(person, shanghai)
                uow.directory.assign(person, beijing)
                people[pool].append(person.slack_user_id)
        people["first_alert"] = (uow.session.scalar(select(func.max(t.alerts.c.id))) or 0) + 1
        uow.commit()
    consent_all(services.ctx)  # the load mix uploads documents: everyone has agreed already
    services.close()
    return people


def _contributions(uow: Any, employee_id: int, branch: Any, today: date, late: bool) -> None:
    """The months of the claim check already due: paid three days early, or unpaid because
    finance has not approved them (as the demo's Shanghai branch)."""
    from core.domain.contributions import ContributionRecord, DelayReason
    from core.domain.periods import Period, window

    for period in window(Period.of(today), 3):
        due = period.day(branch.due_day)
        if due >= today:
            continue
        paid = None if late else due - timedelta(days=3)
        reason = DelayReason.FINANCE_APPROVAL if late else None
        amounts = (Decimal(9000), Decimal("2340.00"), Decimal("945.00"))  # 26 % and 10.5 %
        uow.contributions.add(ContributionRecord(employee_id, period, *amounts, due, paid, reason))


def _employee(number: str, branch_id: int, role: Any, hired: date, n: int) -> Any:
    from core.domain.directory import Employee
    from core.domain.idnumbers import make_id_number

    born = date(1980 + n % 20, 1 + n % 12, 1 + n % 28)
    return Employee(
        employee_no=number,
        name=f"负载{number}",
        branch_id=branch_id,
        hire_date=hired,
        role=role,
        # One region code per thousand people: with the sequence, every number is different.
        id_number=make_id_number(f"3101{n // 1000:02d}", born, n % 1000),
        contribution_base=Decimal(9000),
    )


def documents() -> dict[str, tuple[str, bytes]]:
    """Three files the size of a phone's scan (~64 KB), one per required document."""
    filler = b"0" * 64_000
    return {
        "LOAD-ADMISSION": ("住院证.pdf", b"%PDF-1.4\n%" + filler + b"\n%%EOF\n"),
        "LOAD-BILL": ("费用清单.jpg", jpeg(1600, 1200, comment=filler)),
        "LOAD-ID": ("身份证.png", png(1200, 1600, extra=filler)),
    }
