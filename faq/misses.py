"""Hand-off records: questions the engine would not answer, kept so HR can fill the gaps.

A :class:`Handoff` holds what the responsible HR needs (question, language, asker, best guesses).
Until the conversation layer stores hand-offs in the database, ``hrbot faq ask`` appends them to
a JSON-lines file (``HRBOT_FAQ_MISSES_FILE``, default ``./var/faq-misses.jsonl``): append-only,
one object a line, so concurrent writers never corrupt earlier lines and a torn last line is
simply skipped on reading. ``hrbot faq misses`` groups them by normalised question.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from faq.normalize import fold

if TYPE_CHECKING:  # the engine (and rapidfuzz) is not needed to read or write the log
    from faq.engine import FaqAnswer

ENV_VAR = "HRBOT_FAQ_MISSES_FILE"
DEFAULT_PATH = Path("var") / "faq-misses.jsonl"


@dataclass(frozen=True, slots=True)
class Handoff:
    question: str
    lang: str
    asker: str | None
    best_guesses: tuple[tuple[str, float], ...]
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def from_answer(cls, question: str, answer: FaqAnswer, asker: str | None = None) -> Handoff:
        guesses = tuple((s.intent, s.score) for s in answer.suggestions)
        return cls(question.strip(), answer.lang, asker, guesses)

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at,
            "question": self.question,
            "lang": self.lang,
            "asker": self.asker,
            "best_guesses": [{"intent": i, "score": s} for i, s in self.best_guesses],
        }


@dataclass(slots=True)
class Miss:
    """One unanswered question, all its askings merged."""

    question: str
    count: int
    last_at: str
    lang: str
    best_guess: str | None


def misses_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def record(handoffs: Iterable[Handoff], path: Path | None = None) -> None:
    """Append ``handoffs``; creates the directory. Raises OSError if the file is not writable."""
    lines = "".join(json.dumps(h.to_json(), ensure_ascii=False) + "\n" for h in handoffs)
    if not lines:
        return
    target = path or misses_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    # One write call in append mode: lines from concurrent processes do not interleave.
    with target.open("a", encoding="utf-8") as stream:
        stream.write(lines)


def _read(path: Path) -> Iterator[dict[str, object]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a crash: skip it rather than lose the rest
            if isinstance(item, dict) and isinstance(item.get("question"), str):
                yield item


def summarize(path: Path | None = None) -> list[Miss]:
    """Unanswered questions, most frequent first (then most recent)."""
    groups: dict[str, Miss] = {}
    for item in _read(path or misses_path()):
        question = str(item["question"])
        key = fold(question)  # "请问住院？" and "请问 住院" are the same question
        at = str(item.get("at", ""))
        guesses = item.get("best_guesses")
        best = None
        if isinstance(guesses, list) and guesses and isinstance(guesses[0], dict):
            best = guesses[0].get("intent")
        miss = groups.get(key)
        if miss is None:
            groups[key] = Miss(question, 1, at, str(item.get("lang", "")), best)
            continue
        miss.count += 1
        if at >= miss.last_at:
            miss.last_at, miss.question, miss.best_guess = at, question, best
    misses = sorted(groups.values(), key=lambda m: m.last_at, reverse=True)
    misses.sort(key=lambda m: m.count, reverse=True)  # stable: ties stay most recent first
    return misses
