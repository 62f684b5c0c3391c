"""Level 3: the seeded sample and the totals, in bounded memory."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from core.imports.base import column_letter, show
from core.imports.report import MAX_ISSUES, Action, ImportResult, Issue, Sampler, SampleRow, Totals


def sample_of(rows: int, size: int, seed: int) -> list[int]:
    sampler = Sampler(size, seed)
    for line in range(rows):
        sampler.offer(lambda line=line: SampleRow(line, Action.CREATE, {}))
    return [row.line for row in sampler.rows()]


def test_the_same_seed_gives_the_same_sample_and_another_seed_another() -> None:
    assert sample_of(10_000, 10, seed=5) == sample_of(10_000, 10, seed=5)
    assert sample_of(10_000, 10, seed=5) != sample_of(10_000, 10, seed=6)
    assert sample_of(3, 10, seed=5) == [0, 1, 2]
    assert sample_of(100, 0, seed=5) == []


def test_the_sample_is_uniform_over_the_whole_file() -> None:
    hits: Counter[int] = Counter()
    for seed in range(400):
        hits.update(line // 100 for line in sample_of(1_000, 5, seed))
    # 2,000 picks over ten tenths of the file: each tenth near 200, none starved or favoured.
    assert all(140 < hits[tenth] < 260 for tenth in range(10)), hits


def test_rows_are_built_only_when_kept() -> None:
    built = []
    sampler = Sampler(2, seed=1)
    for line in range(1_000):
        sampler.offer(lambda line=line: built.append(line) or SampleRow(line, Action.CREATE, {}))
    assert len(built) < 40


def test_totals_per_branch_and_month() -> None:
    totals = Totals(["base", "employer_amount"])
    totals.add("SH01", "2026-09", [Decimal("100.10"), Decimal("26")])
    totals.add("SH01", "2026-09", [Decimal("0.90"), None])
    totals.add("BJ01", "2026-09", [Decimal("5"), Decimal("1")])

    rows = totals.rows()

    assert [(t.branch_code, t.period, t.rows) for t in rows] == [
        ("BJ01", "2026-09", 1),
        ("SH01", "2026-09", 2),
    ]
    assert rows[1].sums == {"base": Decimal("101.00"), "employer_amount": Decimal("26")}


def test_issues_beyond_the_cap_are_counted_not_kept() -> None:
    result = ImportResult(kind="contributions", dry_run=False, seed=1)
    for line in range(MAX_ISSUES + 5):
        result.add_issue(Issue(line, "period", "x", "bad_period"))
    assert len(result.issues) == MAX_ISSUES and result.issue_count == MAX_ISSUES + 5
    assert not result.ok


def test_values_are_shown_as_stored_and_id_numbers_masked() -> None:
    assert show("11010519491231002X", "id_number") == "1101**********002X"
    assert show(Decimal("5.00")) == "5.00"
    assert show(None) == ""
    assert show("x" * 200).endswith("…")
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]
