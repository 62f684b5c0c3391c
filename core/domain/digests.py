"""Digests: the daily "what waits for me" per approver and HR, and the weekly summary per HR
director. What goes in them, when one counts as empty, and the keys that make each go once.

Definitions (the services gather the facts, these rules decide):

- An item **waits for** the people the system asks to act on it: a batch in draft, returned or
  verified-but-not-sent waits for its branch's HR (role ``hr``); a batch pending approval and a
  claim under review wait for the branch's finance approvers; an open (not acknowledged) alert
  waits for everyone its levels have reached so far. Someone standing in for an absent colleague
  also sees what waits for that colleague; someone away sees nothing (their substitute does).
- An item is **late** when a batch's due date has passed, or when an alert has escalated past
  its first level (its first deadline went by unacknowledged). Claims have no due date: never late.
- A daily digest is **empty** when nothing waits (lateness is a subset of waiting). A weekly
  summary is empty when no branch is overdue and no alert is unresolved: past causes alone are
  history, not news.
- Each person's digest is checked once per local day (weekly: once per ISO week); an empty one is
  recorded as checked and not sent, so a later item that day waits for the next day's digest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from core.domain.directory import STAFF_ROLES, Role

DAILY_ROLES = STAFF_ROLES
"""Who gets a daily digest: every approver and HR person."""
WEEKLY_ROLES = frozenset({Role.HR_DIRECTOR})
SHOWN = 3
"""How many items of each kind a daily digest names; the count says how many there are."""
SHOWN_BRANCHES = 10
TOP_CAUSES = 3
CAUSE_WINDOW_DAYS = 28
"""The weekly summary's causes count alerts opened in the last four weeks."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DigestKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class ItemKind(StrEnum):
    BATCH = "batch"
    CLAIM = "claim"
    ALERT = "alert"


def daily_key(day: date) -> str:
    return day.isoformat()


def weekly_key(day: date) -> str:
    """The ISO week ``day`` falls in, e.g. ``2026-W42``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class WaitingItem:
    """Something waiting for someone: what it is, how to name it, whether it is late, and the
    ids of the people the system asks to act on it."""

    kind: ItemKind
    ref: str
    late: bool
    asked: frozenset[int]
    order: tuple[Any, ...] = ()
    """Sorts items within a kind: late first, then this (a due date, an id)."""


def batch_late(due_date: date, today: date) -> bool:
    return due_date < today


def alert_late(level: int) -> bool:
    """Escalated past the first level: its first deadline passed unacknowledged."""
    return level > 1


@dataclass(frozen=True)
class DailyDigest:
    day: date
    batches: tuple[WaitingItem, ...] = ()
    claims: tuple[WaitingItem, ...] = ()
    alerts: tuple[WaitingItem, ...] = ()

    @property
    def late(self) -> tuple[WaitingItem, ...]:
        return tuple(i for i in (*self.batches, *self.claims, *self.alerts) if i.late)

    @property
    def total(self) -> int:
        return len(self.batches) + len(self.claims) + len(self.alerts)

    @property
    def empty(self) -> bool:
        return self.total == 0

    def params(self) -> dict[str, Any]:
        late = self.late
        return {
            "day": self.day.isoformat(),
            "total": self.total,
            "batch_count": len(self.batches),
            "batch_refs": _refs(self.batches),
            "claim_count": len(self.claims),
            "claim_refs": _refs(self.claims),
            "alert_count": len(self.alerts),
            "alert_refs": _refs(self.alerts),
            "late_count": len(late),
            "late_refs": _refs(late),
        }


def _refs(items: tuple[WaitingItem, ...]) -> list[str]:
    return [item.ref for item in items[:SHOWN]]


def daily_digest(day: date, items: Iterable[WaitingItem], duties: Collection[int]) -> DailyDigest:
    """The digest of someone who acts for the people ``duties`` (themselves, and anyone absent
    they stand in for today): every item that asks one of them, late ones first."""
    mine = [item for item in items if not item.asked.isdisjoint(duties)]

    def of(kind: ItemKind) -> tuple[WaitingItem, ...]:
        found = [item for item in mine if item.kind is kind]
        return tuple(sorted(found, key=lambda item: (not item.late, item.order)))

    return DailyDigest(day, of(ItemKind.BATCH), of(ItemKind.CLAIM), of(ItemKind.ALERT))


@dataclass(frozen=True)
class WeeklySummary:
    week: str
    overdue: tuple[str, ...] = ()
    """Branches with a month (this one or the last) past its due date unpaid, each with those
    months, e.g. ``上海分公司 2026-09/2026-10``."""
    alert_levels: tuple[int, ...] = ()
    """The level of every unresolved alert."""
    causes: tuple[tuple[str, int], ...] = ()
    """The most frequent causes of the alerts opened in the last four weeks, with their counts."""
    flagged: tuple[str, ...] = ()
    """Unresolved alerts whose policy ran out (last level told, repeats and all): the
    management list, e.g. ``#12 上海分公司 (level 3)``."""

    @property
    def empty(self) -> bool:
        return not self.overdue and not self.alert_levels and not self.flagged

    def params(self) -> dict[str, Any]:
        levels = Counter(min(max(level, 1), 3) for level in self.alert_levels)
        top = self.causes[0] if self.causes else (None, 0)
        return {
            "week": self.week,
            "overdue_count": len(self.overdue),
            "overdue_refs": list(self.overdue[:SHOWN_BRANCHES]),
            "alert_count": len(self.alert_levels),
            "level1": levels[1],
            "level2": levels[2],
            "level3": levels[3],
            "cause": top[0],
            "cause_count": top[1],
            "causes": [cause for cause, _ in self.causes],
            "cause_counts": [count for _, count in self.causes],
            "flagged_count": len(self.flagged),
            "flagged_refs": list(self.flagged[:SHOWN_BRANCHES]),
        }


def top_causes(counts: Counter[str], n: int = TOP_CAUSES) -> tuple[tuple[str, int], ...]:
    """The ``n`` most frequent causes, ties broken by name so the summary is stable."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple((cause, count) for cause, count in ranked[:n] if count > 0)
