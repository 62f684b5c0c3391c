"""Lifecycles declared as data: a table of (state, event) -> state, checked once at import.

Claims, contribution batches and alerts each declare one table; every state change in hrbot goes
through ``TransitionTable.apply`` so an illegal move raises ``IllegalTransition`` and changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from core.domain.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class TransitionTable(Generic[S]):
    """An explicit transition table; the initial state reaches every state, finals have no exit."""

    name: str
    initial: S
    rows: Mapping[tuple[S, str], S]
    finals: frozenset[S] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        states = {self.initial} | {s for s, _ in self.rows} | set(self.rows.values())
        reachable = {self.initial}
        frontier = [self.initial]
        while frontier:
            here = frontier.pop()
            for (src, _event), dst in self.rows.items():
                if src == here and dst not in reachable:
                    reachable.add(dst)
                    frontier.append(dst)
        if unreachable := states - reachable:
            raise ValueError(f"{self.name}: unreachable states {sorted(unreachable)}")
        if leaving := {s for s, _ in self.rows if s in self.finals}:
            raise ValueError(f"{self.name}: final states with exits {sorted(leaving)}")

    def apply(self, current: S, event: str) -> S:
        """The state after ``event``; raises ``IllegalTransition`` if the table has no such row."""
        try:
            return self.rows[(current, event)]
        except KeyError:
            raise IllegalTransition(
                f"{self.name}: cannot {event} from {current}",
                machine=self.name,
                event=event,
                state=str(current),
            ) from None

    def allows(self, current: S, event: str) -> bool:
        return (current, event) in self.rows

    def events(self) -> Iterable[str]:
        return sorted({event for _, event in self.rows})
