"""What an import tells a person: the issues (level 1 and 2), the counts, and the level 3 review,
a seeded random sample of rows as they will be stored plus totals per branch and month.

Everything here is plain data with stable codes; the command line renders it in the user's
language. Memory stays bounded whatever the file's size: the sample is a reservoir, the totals are
per branch and month, and past ``MAX_ISSUES`` issues are only counted.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

MAX_ISSUES = 10_000
HEADER_LINE = 1


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Issue:
    """One thing wrong: where (row and column as the file names them), what, and why."""

    line: int
    column: str
    value: str
    """As the file holds it, except ID numbers, which are masked."""
    code: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, action: Action) -> None:
        if action is Action.CREATE:
            self.created += 1
        elif action is Action.UPDATE:
            self.updated += 1
        else:
            self.unchanged += 1


@dataclass(frozen=True)
class SampleRow:
    line: int
    action: Action
    values: dict[str, str]
    """Column name → the value as it will be stored, in text (ID numbers masked)."""


@dataclass(frozen=True)
class Total:
    branch_code: str
    period: str
    """``YYYY-MM``, or empty for totals per branch only (the employee import)."""
    rows: int
    sums: dict[str, Decimal]


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    seed: int
    source: str = ""
    """How the file was read, e.g. ``csv gbk`` or ``xlsx 工作表1``."""
    rows: int = 0
    """Data rows read (blank rows are skipped and not counted)."""
    issues: list[Issue] = field(default_factory=list)
    more_issues: int = 0
    """Issues found beyond the first ``MAX_ISSUES``, counted only."""
    invalid_lines: set[int] = field(default_factory=set)
    counts: Counts = field(default_factory=Counts)
    related: dict[str, Counts] = field(default_factory=dict)
    """Other tables an import fills on the way, e.g. the branches of an employee import."""
    sample: list[SampleRow] = field(default_factory=list)
    totals: list[Total] = field(default_factory=list)
    measures: tuple[str, ...] = ()
    """The names of the amounts summed in ``totals``."""
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def issue_count(self) -> int:
        return len(self.issues) + self.more_issues

    def add_issue(self, issue: Issue) -> None:
        self.invalid_lines.add(issue.line)
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(issue)
        else:
            self.more_issues += 1


class Sampler:
    """A uniform random sample of ``size`` rows out of any number, in bounded memory.

    Reservoir sampling (Vitter's algorithm R) with a seeded generator: the same file and seed
    give the same sample, so a reviewer can ask for it again. Rows are built only when kept.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seen = 0
        self._random = random.Random(seed)
        self._kept: list[SampleRow] = []

    def offer(self, make: Callable[[], SampleRow]) -> None:
        self.seen += 1
        if len(self._kept) < self.size:
            self._kept.append(make())
            return
        slot = self._random.randrange(self.seen)
        if slot < self.size:
            self._kept[slot] = make()

    def rows(self) -> list[SampleRow]:
        return sorted(self._kept, key=lambda row: row.line)


class Totals:
    """Row counts and sums of ``measures`` per branch and month."""

    def __init__(self, measures: Sequence[str]) -> None:
        self.measures = tuple(measures)
        self._sums: dict[tuple[str, str], list[Decimal]] = {}
        self._rows: dict[tuple[str, str], int] = {}

    def add(self, branch_code: str, period: str, amounts: Sequence[Decimal | None]) -> None:
        key = (branch_code, period)
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = [Decimal(0)] * len(self.measures)
            self._rows[key] = 0
        self._rows[key] += 1
        for index, amount in enumerate(amounts):
            if amount is not None:
                sums[index] += amount

    def rows(self) -> list[Total]:
        return [
            Total(branch, period, self._rows[key], dict(zip(self.measures, sums, strict=True)))
            for key, sums in sorted(self._sums.items())
            for branch, period in [key]
        ]
