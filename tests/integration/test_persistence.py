"""Values come back from the database exactly as they went in, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, text
from sqlalchemy.exc import IntegrityError, StatementError

from core.domain.audit import AuditEntry
from core.domain.claims import Claim, ClaimState, ClaimType
from core.domain.contributions import ContributionRecord, DelayReason
from core.domain.directory import Branch, Locale, Role
from core.domain.escalation import Alert, AlertState, SubjectKind
from core.domain.notifications import ChannelKind, DeliveryState, Notification
from core.domain.periods import Period
from core.persistence.migrate import current_revision, head_revision, is_up_to_date
from core.persistence.tables import metadata
from core.persistence.uow import Database
from core.services.context import Context
from tests.factories import add_branch, add_employee, make_org

SHANGHAI = timezone(timedelta(hours=8))


def test_migrations_reach_head(engine: Engine) -> None:
    assert head_revision() is not None
    assert current_revision(engine) == head_revision()
    assert is_up_to_date(engine)


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": metadata}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_schema_comparison_would_see_a_difference(engine: Engine) -> None:
    """Guards the test above: a table the migrations lack is reported."""
    wanted = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(wanted)
    Table("canary", wanted, Column("id", Integer, primary_key=True))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, wanted)
    assert [d[0] for d in differences] == ["add_table"]


def test_money_is_exact_to_the_fen(ctx: Context) -> None:
    org = make_org(ctx)
    amounts = [Decimal("0.01"), Decimal("12345678.91"), Decimal("0.10"), Decimal("99999999999.99")]
    with ctx.uow() as uow:
        for month, amount in enumerate(amounts, start=1):
            uow.contributions.add(
                ContributionRecord(
                    employee_id=org.employee.id,
                    period=Period(2026, month),
                    base=amount,
                    employer_amount=amount * 2,
                    employee_amount=Decimal("3"),
                    due_date=date(2026, month, 15),
                )
            )
        uow.commit()
    with ctx.uow() as uow:
        records = uow.contributions.for_employee(org.employee.id)
        assert [r.base for r in records] == amounts
        assert [str(r.employee_amount) for r in records] == ["3.00"] * 4
        assert sum((r.employer_amount for r in records), Decimal(0)) == Decimal("200024691358.02")
        total = uow.session.execute(text("SELECT SUM(base) FROM contributions")).scalar_one()
        assert total == 10001234567901  # fen, summable in SQL


def test_a_third_decimal_is_refused_not_rounded(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        uow.contributions.add(
            ContributionRecord(
                employee_id=org.employee.id,
                period=Period(2026, 9),
                base=Decimal("100.005"),
                employer_amount=Decimal("1"),
                employee_amount=Decimal("1"),
                due_date=date(2026, 9, 15),
            )
        )
        with pytest.raises(StatementError, match="more than two decimals"):
            uow.flush()


def test_datetimes_come_back_aware_in_utc(ctx: Context) -> None:
    org = make_org(ctx)
    in_shanghai = datetime(2026, 10, 12, 9, 0, 0, 123456, tzinfo=SHANGHAI)
    with ctx.uow() as uow:
        claim = Claim(
            employee_id=org.employee.id,
            claim_type=ClaimType.HOSPITALIZATION,
            created_at=in_shanghai,
            submitted_at=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        )
        uow.claims.add(claim)
        uow.commit()
        claim_id = claim.id
    with ctx.uow() as uow:
        again = uow.claims.get(claim_id)
        assert again.created_at == in_shanghai
        assert again.created_at.tzinfo is UTC
        assert again.created_at == datetime(2026, 10, 12, 1, 0, 0, 123456, tzinfo=UTC)
        assert again.submitted_at == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
        assert again.decided_at is None


def test_a_naive_datetime_is_refused(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        uow.claims.add(
            Claim(
                employee_id=org.employee.id,
                claim_type=ClaimType.OUTPATIENT,
                created_at=datetime(2026, 10, 12, 9, 0),
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            uow.flush()


def test_periods_enums_and_dates_round_trip(ctx: Context) -> None:
    branch = add_branch(ctx, "BJ01", "北京分公司", due_day=20)
    person = add_employee(
        ctx,
        branch,
        "BJ-001",
        "Ana",
        Role.HR_MANAGER,
        hire_date=date(2019, 2, 28),
        leave_date=date(2026, 12, 31),
        responsible_for=[branch],
    )
    with ctx.uow() as uow:
        found = uow.directory.employee_by_no("BJ-001")
        assert found is not None
        found.locale = Locale.EN
        uow.contributions.add(
            ContributionRecord(
                employee_id=person.id,
                period=Period(2025, 12),
                base=Decimal("8000"),
                employer_amount=Decimal("1"),
                employee_amount=Decimal("1"),
                due_date=date(2025, 12, 20),
                paid_date=date(2026, 1, 3),
                delay_reason=DelayReason.BUREAU_SYSTEM,
            )
        )
        uow.claims.add(
            Claim(
                employee_id=person.id,
                claim_type=ClaimType.OUTPATIENT,
                created_at=datetime(2026, 10, 12, tzinfo=UTC),
                state=ClaimState.ON_HOLD,
            )
        )
        uow.commit()
    with ctx.uow() as uow:
        again = uow.directory.employee_by_no("BJ-001")
        assert again is not None
        assert again.role is Role.HR_MANAGER and again.locale is Locale.EN
        assert (again.hire_date, again.leave_date) == (date(2019, 2, 28), date(2026, 12, 31))
        (record,) = uow.contributions.for_employee(person.id, since=Period(2025, 12))
        assert record.period == Period(2025, 12)
        assert record.delay_reason is DelayReason.BUREAU_SYSTEM
        assert record.paid_date == date(2026, 1, 3)
        assert uow.contributions.by_key(person.id, Period(2025, 12)) is not None
        assert uow.contributions.for_employee(person.id, since=Period(2026, 1)) == []
        (claim,) = uow.claims.of_employee(person.id)
        assert claim.state is ClaimState.ON_HOLD and claim.claim_type is ClaimType.OUTPATIENT
        assert [c.id for c in uow.claims.held_for([person.id])] == [claim.id]


def test_periods_sort_in_time_order_in_sql(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        for text_period in ["2026-10", "2025-12", "2026-02", "2026-01"]:
            period = Period.parse(text_period)
            uow.contributions.add(
                ContributionRecord(
                    employee_id=org.employee.id,
                    period=period,
                    base=Decimal(1),
                    employer_amount=Decimal(1),
                    employee_amount=Decimal(1),
                    due_date=period.day(15),
                )
            )
        uow.commit()
    with ctx.uow() as uow:
        got = uow.contributions.for_employee(org.employee.id, since=Period(2026, 1))
        assert [str(r.period) for r in got] == ["2026-01", "2026-02", "2026-10"]


def test_json_params_and_audit_detail_round_trip(ctx: Context) -> None:
    org = make_org(ctx)
    params = {
        "claim": "C000001",
        "months": ["2026-08", "2026-09"],
        "employee": "张三",
        "nested": {"amount": "1234.56", "none": None, "flag": True, "n": 3},
    }
    buttons = [{"action": "claim.approve", "payload": {"claim_id": 1}, "style": "primary"}]
    now = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
    with ctx.uow() as uow:
        uow.outbox.enqueue(
            Notification(
                recipient_id=org.employee.id,
                channel=ChannelKind.EMAIL,
                key="claim.held",
                params=params,
                idempotency_key="k1",
                created_at=now,
                buttons=buttons,
            )
        )
        uow.audit.add(
            AuditEntry(
                at=now,
                action="claim.hold",
                subject_kind="claim",
                subject_id=1,
                from_state="submitted",
                to_state="on_hold",
                detail={"months": ["2026-08"]},
            )
        )
        uow.commit()
    with ctx.uow() as uow:
        (notice,) = uow.outbox.all()
        assert notice.params == params and notice.buttons == buttons
        assert notice.channel is ChannelKind.EMAIL and notice.state is DeliveryState.PENDING
        (entry,) = uow.audit.for_subject("claim", 1)
        assert entry.detail == {"months": ["2026-08"]}
        assert (entry.actor, entry.at) == ("system", now)
        stored = uow.session.execute(text("SELECT params FROM outbox")).scalar_one()
        assert "张三" in stored  # readable in a dump, not \\u-escaped


def test_alert_round_trip(ctx: Context) -> None:
    org = make_org(ctx)
    with ctx.uow() as uow:
        alert = Alert(
            subject_kind=SubjectKind.CONTRIBUTION_BATCH,
            subject_id=42,
            branch_id=org.branch.id,
            opened_at=datetime(2026, 10, 12, 1, tzinfo=UTC),
            policy_name="default",
            policy_version=1,
            suspected_cause=DelayReason.FINANCE_APPROVAL,
            expected_fix_date=date(2026, 10, 14),
        )
        uow.alerts.add(alert)
        uow.commit()
    with ctx.uow() as uow:
        (again,) = uow.alerts.unresolved_for(SubjectKind.CONTRIBUTION_BATCH, 42)
        assert again.state is AlertState.OPEN and again.level == 0
        assert again.suspected_cause is DelayReason.FINANCE_APPROVAL
        assert again.expected_fix_date == date(2026, 10, 14)
        assert uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, 42) == []


def test_natural_keys_are_unique(ctx: Context) -> None:
    org = make_org(ctx)
    record: dict[str, Any] = {
        "employee_id": org.employee.id,
        "period": Period(2026, 9),
        "base": Decimal(1),
        "employer_amount": Decimal(1),
        "employee_amount": Decimal(1),
        "due_date": date(2026, 9, 15),
    }
    with ctx.uow() as uow:
        uow.contributions.add(ContributionRecord(**record))
        uow.contributions.add(ContributionRecord(**record))
        with pytest.raises(IntegrityError):
            uow.commit()
    with ctx.uow() as uow:
        assert uow.contributions.for_employee(org.employee.id) == []


def test_a_unit_of_work_left_without_commit_writes_nothing(db: Database, ctx: Context) -> None:
    with db.uow() as uow:
        uow.directory.add(Branch(code="GZ01", name="广州分公司"))
        uow.flush()
        assert uow.directory.branch_by_code("GZ01") is not None
    with db.uow() as uow:
        assert uow.directory.branch_by_code("GZ01") is None
