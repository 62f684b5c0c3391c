"""The audit trail's hash chain: how a row is sealed, and how a walk over the rows finds the
first one that was changed, removed or re-linked.

Each row stores its place in the chain (``seq``, 1, 2, 3, … with no gaps), the hash of the row
before it (``prev_hash``; the first row points at ``GENESIS``) and its own ``row_hash``: SHA-256
over a canonical text of its content, its place and ``prev_hash``. Changing a row's content
breaks its own hash; removing a row leaves a gap in ``seq``; rewriting a row and its hash breaks
the next row's ``prev_hash`` (or, for the last row, the chain head kept beside the table).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.domain.audit import AuditEntry

GENESIS = "0" * 64
"""What the first row's ``prev_hash`` names: there is nothing before it."""

CONTENT_FIELDS = (
    "at",
    "actor_id",
    "actor",
    "channel",
    "action",
    "subject_kind",
    "subject_id",
    "from_state",
    "to_state",
    "detail",
)


def canonical_at(at: datetime) -> str:
    """ISO 8601 in UTC with microseconds, the precision both databases keep."""
    if at.tzinfo is None:
        raise ValueError("an audit time must be aware (UTC)")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_digest(content: Mapping[str, Any], seq: int, prev_hash: str) -> str:
    """SHA-256 (hex) of the sorted-key JSON of a row's content, ``seq`` and ``prev_hash``.

    ``detail`` is hashed as JSON, the form the database keeps it in, so a value read back
    (a list where a tuple was written) hashes the same as the one written."""
    document = {name: content[name] for name in CONTENT_FIELDS}
    document["at"] = canonical_at(content["at"])
    document["seq"] = seq
    document["prev_hash"] = prev_hash
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def content_of(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in CONTENT_FIELDS}


def seal(entry: AuditEntry, seq: int, prev_hash: str) -> str:
    """Give ``entry`` its place after the row hashed ``prev_hash``; returns its own hash."""
    entry.seq, entry.prev_hash = seq, prev_hash
    entry.row_hash = row_digest(content_of(entry), seq, prev_hash)
    return entry.row_hash


@dataclass(frozen=True)
class ChainHead:
    """The last sealed row, as recorded beside the table when it was appended."""

    seq: int
    row_hash: str


@dataclass(frozen=True)
class ChainRow:
    id: int
    seq: int
    prev_hash: str
    row_hash: str
    content: Mapping[str, Any]


class BreakKind(StrEnum):
    CONTENT_CHANGED = "content_changed"
    ROW_MISSING = "row_missing"
    RELINKED = "relinked"
    TAIL_MISSING = "tail_missing"


@dataclass(frozen=True)
class ChainBreak:
    kind: BreakKind
    row_id: int | None
    """The first row that does not fit (None when rows are missing after the last one)."""
    seq: int | None
    message: str


class ChainWalk:
    """Feed rows in id order to ``step``; the first break stops the walk (``step`` returns it)."""

    def __init__(self) -> None:
        self.rows = 0
        self.last_id: int | None = None
        self.last = ChainHead(0, GENESIS)

    def step(self, row: ChainRow) -> ChainBreak | None:
        found = self._check(row)
        if found is None:
            self.rows += 1
            self.last_id, self.last = row.id, ChainHead(row.seq, row.row_hash)
        return found

    def _check(self, row: ChainRow) -> ChainBreak | None:
        if row_digest(row.content, row.seq, row.prev_hash) != row.row_hash:
            return ChainBreak(
                BreakKind.CONTENT_CHANGED,
                row.id,
                row.seq,
                f"row {row.id}: content changed (its hash does not match what it holds)",
            )
        wanted = self.last.seq + 1
        if row.seq > wanted:
            return ChainBreak(
                BreakKind.ROW_MISSING,
                row.id,
                row.seq,
                f"row {row.id}: {_missing(wanted, row.seq - 1)} missing before it"
                f"{_after(self.last_id)}",
            )
        if row.seq < wanted or row.prev_hash != self.last.row_hash:
            return ChainBreak(
                BreakKind.RELINKED,
                row.id,
                row.seq,
                f"row {row.id}: chain re-linked (it does not point at "
                f"{'the start' if self.last_id is None else f'row {self.last_id}'})",
            )
        return None

    def finish(self, head: ChainHead | None) -> ChainBreak | None:
        """Checks the end of the walk against the head recorded when the last row was added
        (read before the walk started: rows added meanwhile are simply walked too)."""
        if head is None or head.seq < self.last.seq:
            return None
        if head.seq > self.last.seq:
            return ChainBreak(
                BreakKind.TAIL_MISSING,
                None,
                head.seq,
                f"{_missing(self.last.seq + 1, head.seq)} missing at the end{_after(self.last_id)}",
            )
        if head.row_hash != self.last.row_hash:
            return ChainBreak(
                BreakKind.RELINKED,
                self.last_id,
                head.seq,
                f"row {self.last_id}: chain re-linked (the last row is not the one recorded)",
            )
        return None


def _missing(first: int, last: int) -> str:
    return f"row #{first} of the chain" if first == last else f"rows #{first}–#{last} of the chain"


def _after(row_id: int | None) -> str:
    return "" if row_id is None else f" (after row {row_id})"
