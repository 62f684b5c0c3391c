"""``hrbot purge``: personal information past retention goes; statistics and the audit trail stay.

The history below, seen 400 days after the seed's day (defaults: documents 365 days after the
claim closed, web chat 180 days, leavers' ID and mobile numbers 730 days after leaving):

- a claim paid and a claim rejected on day 0: their six uploaded documents have expired; the
  paid claim's voucher (a payment record) stays;
- a claim withdrawn on day 300 and a draft never sent: their documents stay;
- two web chat messages of day 0 go, one of day 300 stays;
- someone who left in mid-2024 loses their ID and mobile numbers; someone who left in mid-2027
  keeps them.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.domain.directory import Employee
from core.domain.periods import Period
from core.domain.retention import LEAVER_COLUMNS, PurgeKind
from core.persistence import tables
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from core.ports import ManualClock
from core.services import reports, webchat
from core.services.claims import (
    approve_claim,
    claim_view,
    record_payout,
    reject_claim,
    submit_claim,
    withdraw_claim,
)
from core.services.context import Context
from core.services.purge import apply_purge, plan_purge
from tests.cli_support import hrbot
from tests.factories import (
    Org,
    add_employee,
    add_records,
    make_org,
    open_complete_claim,
    row_counts,
)

MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
DIAGNOSIS = "诊断：急性阑尾炎"
WINDOW = (Period(2026, 1), Period(2027, 12))


@dataclass
class History:
    org: Org
    expired: list[int]
    """Claims whose uploaded documents have expired (paid, rejected on day 0)."""
    kept: list[int]
    """Claims whose documents stay (withdrawn on day 300, a draft)."""
    early_leaver: Employee
    late_leaver: Employee


def documents_of(ctx: Context, claim_ids: list[int]) -> list[Any]:
    return [d for c in claim_ids for d in claim_view(ctx, c).documents]


def stored_files(tmp_path: Path) -> set[Path]:
    return {p for p in (tmp_path / "documents").rglob("*") if p.is_file()}


def audit_rows(ctx: Context) -> list[tuple[int, str, str, int, dict[str, Any]]]:
    with ctx.uow() as uow:
        return [(a.id, a.action, a.subject_kind, a.subject_id, a.detail) for a in uow.audit.all()]


def id_number(ctx: Context, person: Employee) -> str | None:
    with ctx.uow() as uow:
        return uow.directory.employee(person.id).id_number


def identity_columns(ctx: Context, person: Employee) -> dict[str, Any]:
    """The leaver columns as stored (the ID number's keyed hash too, when there is one)."""
    people = tables.employees
    names = [*LEAVER_COLUMNS, people.c.id_number.info.get("blind_index")]
    columns = [people.c[name] for name in names if name]
    with ctx.uow() as uow:
        row = uow.session.execute(select(*columns).where(people.c.id == person.id)).one()
    return dict(row._mapping)


def figures(ctx: Context) -> dict[str, Any]:
    first, last = WINDOW
    return {
        "durations": reports.durations(ctx, first, last, None).to_json(),
        "costs": reports.costs(ctx, first, last, None).to_json(),
        "delays": reports.delays(ctx, first, last, None).to_json(),
    }


@pytest.fixture
def history(ctx: Context, clock: ManualClock) -> History:
    org = make_org(ctx)
    add_records(ctx, org.employee, MONTHS, unpaid=["2026-10"])
    paid = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, paid, org.employee.id)
    approve_claim(ctx, paid, org.finance.id, Decimal("8650.00"))
    record_payout(ctx, paid, org.finance.id, "PAY-1")
    rejected = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, rejected, org.employee.id)
    reject_claim(ctx, rejected, org.finance.id, "not covered")
    webchat.post(ctx, org.employee.id, [{"from": "me", "text": DIAGNOSIS}] * 2)
    early = add_employee(
        ctx, org.branch, "SH01-E901", "离职一", leave_date=date(2024, 6, 30), id_sequence=901
    )
    with ctx.uow() as uow:
        uow.directory.employee(early.id).phone = "13912345678"
        uow.commit()
    clock.advance(timedelta(days=300))
    withdrawn = open_complete_claim(ctx, org.employee)
    withdraw_claim(ctx, withdrawn, org.employee.id)
    draft = open_complete_claim(ctx, org.employee)
    webchat.post(ctx, org.employee.id, [{"from": "me", "text": "recent"}])
    late = add_employee(
        ctx, org.branch, "SH01-E902", "离职二", leave_date=date(2027, 6, 30), id_sequence=902
    )
    clock.advance(timedelta(days=100))
    return History(org, [paid, rejected], [withdrawn, draft], early, late)


def test_a_dry_run_counts_and_changes_nothing(
    ctx: Context, history: History, tmp_path: Path
) -> None:
    before, files, trail = row_counts(ctx), stored_files(tmp_path), audit_rows(ctx)
    plan = plan_purge(ctx)
    assert plan.counts == {
        PurgeKind.CLAIM_DOCUMENT: 6,
        PurgeKind.WEB_MESSAGES: 2,
        PurgeKind.LEAVER_DATA: 1,
    }
    assert plan.files == 6
    assert (row_counts(ctx), stored_files(tmp_path), audit_rows(ctx)) == (before, files, trail)


def test_apply_removes_what_expired_and_keeps_the_rest(
    ctx: Context, history: History, tmp_path: Path
) -> None:
    expired = [d for d in documents_of(ctx, history.expired) if d.kind != "voucher"]
    vouchers = [d for d in documents_of(ctx, history.expired) if d.kind == "voucher"]
    kept = documents_of(ctx, history.kept) + vouchers
    assert len(expired) == 6 and len(vouchers) == 1 and len(kept) == 7

    result = apply_purge(ctx)

    assert result.removed.counts == plan_counts(6, 2, 1) and result.failed == 0
    assert [d.id for d in documents_of(ctx, history.expired)] == [d.id for d in vouchers]
    assert [d.id for d in documents_of(ctx, history.kept)] == [d.id for d in kept[:6]]
    assert not any(ctx.documents.exists(d.storage_key) for d in expired)
    assert all(ctx.documents.exists(d.storage_key) for d in kept)
    assert len(stored_files(tmp_path)) == 7
    texts = [m.payload["text"] for m in webchat.history(ctx, history.org.employee.id)]
    assert texts == ["recent"]
    assert set(identity_columns(ctx, history.early_leaver).values()) == {None}
    assert id_number(ctx, history.late_leaver) is not None
    assert id_number(ctx, history.org.employee) is not None
    for claim_id in history.expired:  # the claims themselves stay, for the statistics
        assert claim_view(ctx, claim_id).claim.state in ("paid", "rejected")


def plan_counts(documents: int, messages: int, ids: int) -> dict[PurgeKind, int]:
    return {
        PurgeKind.CLAIM_DOCUMENT: documents,
        PurgeKind.WEB_MESSAGES: messages,
        PurgeKind.LEAVER_DATA: ids,
    }


def test_apply_keeps_the_audit_trail_and_adds_one_row_per_deletion(
    ctx: Context, history: History
) -> None:
    expired = [d for d in documents_of(ctx, history.expired) if d.kind != "voucher"]
    before = audit_rows(ctx)
    apply_purge(ctx)
    after = audit_rows(ctx)
    assert after[: len(before)] == before  # nothing changed or went
    added = [(action, kind, subject) for _, action, kind, subject, _ in after[len(before) :]]
    assert sorted(added) == sorted(
        [("purge.document", "claim", d.claim_id) for d in expired]
        + [("purge.web_messages", "employee", history.org.employee.id)]
        + [("purge.leaver_data", "employee", history.early_leaver.id)]
    )
    purged = [detail for _, action, _, _, detail in after if action == "purge.document"]
    assert sorted(p["document_id"] for p in purged) == sorted(d.id for d in expired)
    assert all(p["retention_days"] == 365 for p in purged)


def test_report_figures_do_not_change(ctx: Context, history: History) -> None:
    before = figures(ctx)
    assert before["durations"]["groups"]  # a paid claim is in the window: something to keep
    apply_purge(ctx)
    assert figures(ctx) == before


def test_a_second_apply_does_nothing(ctx: Context, history: History, tmp_path: Path) -> None:
    apply_purge(ctx)
    counts, files, trail = row_counts(ctx), stored_files(tmp_path), audit_rows(ctx)
    again = apply_purge(ctx)
    assert again.removed.total == 0 and again.removed.files == 0
    assert (row_counts(ctx), stored_files(tmp_path), audit_rows(ctx)) == (counts, files, trail)
    assert plan_purge(ctx).total == 0


def test_two_purges_at_once_delete_and_audit_each_thing_once(
    ctx: Context, history: History
) -> None:
    results: list[Any] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(apply_purge(ctx))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    removed = {kind: sum(r.removed.counts[kind] for r in results) for kind in PurgeKind}
    assert removed == plan_counts(6, 2, 1)
    actions = [action for _, action, *_ in audit_rows(ctx) if action.startswith("purge.")]
    assert len(actions) == 8


def test_each_deletion_is_logged_without_values(
    ctx: Context, history: History, caplog: pytest.LogCaptureFixture
) -> None:
    leaver_id = id_number(ctx, history.early_leaver)
    assert leaver_id is not None
    with caplog.at_level(logging.INFO, logger="core.services.purge"):
        apply_purge(ctx)
    lines = [r.getMessage() for r in caplog.records if r.name == "core.services.purge"]
    assert len(lines) == 8  # six documents, one person's messages, one ID number
    logged = "\n".join(lines)
    for secret in (leaver_id, "13912345678", DIAGNOSIS, "住院证", "张三", ".pdf"):
        assert secret not in logged


def test_a_file_that_cannot_be_deleted_keeps_its_row_for_the_next_run(
    ctx: Context, history: History
) -> None:
    real = ctx.documents

    class Stuck:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def delete(self, key: str) -> None:
            raise PermissionError(13, "Permission denied")

    stuck = Context(ctx.uow, ctx.clock, Stuck(), ctx.rules)
    result = apply_purge(stuck)
    assert result.failed == 6 and result.removed.counts[PurgeKind.CLAIM_DOCUMENT] == 0
    assert plan_purge(ctx).counts[PurgeKind.CLAIM_DOCUMENT] == 6
    assert apply_purge(ctx).removed.counts[PurgeKind.CLAIM_DOCUMENT] == 6


def test_a_document_row_whose_file_is_already_gone_is_finished(
    ctx: Context, history: History
) -> None:
    """What a crash between deleting the file and committing leaves behind."""
    (first, *_) = [d for d in documents_of(ctx, history.expired) if d.kind != "voucher"]
    ctx.documents.delete(first.storage_key)
    assert apply_purge(ctx).removed.counts[PurgeKind.CLAIM_DOCUMENT] == 6


def test_documents_expire_only_after_the_retention_period(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    withdraw_claim(ctx, open_complete_claim(ctx, org.employee), org.employee.id)
    clock.advance(timedelta(days=364))
    assert plan_purge(ctx).total == 0
    clock.advance(timedelta(days=2))
    assert plan_purge(ctx).counts[PurgeKind.CLAIM_DOCUMENT] == 3


def test_an_abandoned_drafts_documents_go_after_the_retention_period(
    ctx: Context, clock: ManualClock
) -> None:
    """A draft is never closed: counted from its last upload, or it would keep its medical
    documents for ever. The draft itself stays (its owner may still finish it)."""
    org = make_org(ctx)
    draft = open_complete_claim(ctx, org.employee)
    clock.advance(timedelta(days=364))
    assert plan_purge(ctx).total == 0
    clock.advance(timedelta(days=2))
    assert plan_purge(ctx).counts[PurgeKind.CLAIM_DOCUMENT] == 3
    assert apply_purge(ctx).removed.counts[PurgeKind.CLAIM_DOCUMENT] == 3
    assert documents_of(ctx, [draft]) == []
    with ctx.uow() as uow:
        assert uow.claims.get(draft).state.value == "draft"


@pytest.mark.slow
def test_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hrbot.db'}"
    engine = make_engine(url)
    upgrade(engine)  # in this process: one subprocess fewer
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRBOT_")}
    env |= {"HRBOT_DATABASE_URL": url, "HRBOT_DOCUMENTS_DIR": str(tmp_path / "documents")}
    dry = hrbot("purge", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "claim documents" in dry.stdout
    applied = hrbot("purge", "--apply", env=env)
    assert applied.returncode == 0, applied.stderr
    assert "removed:" in applied.stdout
    refused = hrbot("purge", "--dry-run", "--apply", env=env)
    assert refused.returncode == 2 and "--dry-run" in refused.stderr
