"""Fixtures for import tests: a small organisation in the database.

The ``ctx`` fixture (tests/conftest.py) runs each test on SQLite and, when configured, PostgreSQL;
today is 2026-10-12 in Shanghai.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.domain.directory import Branch, Employee, Role
from core.services.context import Context
from tests.integration.imports.helpers import Org, id_number


@pytest.fixture
def org(ctx: Context) -> Org:
    with ctx.uow() as uow:
        branch = Branch(code="SH01", name="上海分公司", city="上海", due_day=15)
        uow.directory.add(branch)
        uow.flush()
        zhang = Employee(
            employee_no="E001",
            name="张三",
            branch_id=branch.id,
            hire_date=date(2024, 3, 1),
            id_number=id_number(1),
            slack_user_id="UZHANG",
            contribution_base=Decimal("12000.00"),
        )
        li = Employee(
            employee_no="E002",
            name="李四",
            branch_id=branch.id,
            hire_date=date(2020, 1, 1),
            leave_date=date(2026, 6, 30),
            role=Role.HR,
            id_number=id_number(2),
        )
        uow.directory.add(zhang)
        uow.directory.add(li)
        uow.commit()
        return Org(branch, zhang, li)
