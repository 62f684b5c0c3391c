"""The FAQ engine the bot calls: ``FaqEngine.load().ask(question, lang="auto") -> FaqAnswer``.

Decision rule, with the numbers tuned on the labelled set (tests/unit/faq/):
- small talk only (greetings, thanks, goodbye) → a friendly reply, never a hand-off;
- closest to the out-of-scope examples (payroll, leave, IT, canteen…) → hand-off;
- best score >= ``CUTOFF`` and ahead of the runner-up by >= ``MARGIN`` → the answer;
- best score >= ``CUTOFF`` but a close call → "did you mean" with the two best (no answer yet);
- otherwise → hand-off to HR: no guessed answer, ``intent`` None.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from faq.loader import OUT_OF_SCOPE, KnowledgeBase, load_knowledge_base
from faq.matcher import Candidate, Matcher
from faq.normalize import KB_DIR, Lang, Normalized, normalize

CUTOFF = 45.0
MARGIN = 5.0
SUGGESTIONS = 3  # best guesses kept for buttons and for the hand-off record

Status = Literal["answer", "did_you_mean", "handoff", "small_talk"]


@dataclass(frozen=True, slots=True)
class Suggestion:
    intent: str
    score: float
    title: str
    """Short label in the answer's language, for a button."""


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    intent: str | None
    score: float
    handoff: bool
    lang: Lang
    answer: str | None
    suggestions: tuple[Suggestion, ...] = ()
    follow_up_command: str | None = None
    small_talk: str | None = None
    """``greeting``, ``thanks`` or ``goodbye`` when the message was only that."""

    @property
    def status(self) -> Status:
        if self.small_talk:
            return "small_talk"
        if self.handoff:
            return "handoff"
        return "answer" if self.answer is not None else "did_you_mean"

    def contract_json(self) -> dict[str, object]:
        """Exactly the object of ``hrbot faq ask --json`` (shared/faq-intents.md)."""
        return {
            "intent": self.intent,
            "score": self.score,
            "handoff": self.handoff,
            "lang": self.lang,
            "answer": self.answer,
        }


class FaqEngine:
    def __init__(self, kb: KnowledgeBase, cutoff: float = CUTOFF, margin: float = MARGIN) -> None:
        self.kb = kb
        self.cutoff = cutoff
        self.margin = margin
        extra = (kb.out_of_scope,) if kb.out_of_scope else ()
        self.matcher = Matcher(kb.entries + extra)

    @classmethod
    def load(cls, kb_dir: Path | None = None) -> FaqEngine:
        """The engine for ``kb_dir`` (default: the packaged knowledge base), built once per
        process and shared; raises :class:`faq.loader.KnowledgeBaseError` if the KB is broken."""
        return _load(kb_dir or KB_DIR)

    def ask(self, question: str, lang: str = "auto") -> FaqAnswer:
        """Answer ``question``. ``lang`` is the reply language (``zh``, ``en``, a locale such as
        ``zh-CN``, or ``auto`` to follow the question); matching always follows the question."""
        if not question.strip():
            raise ValueError("empty question")
        norm = normalize(question, "zh", self.matcher.spell)
        reply = _reply_lang(lang, norm)
        if norm.small_talk:
            text = self.kb.small_talk[norm.small_talk][reply]
            return FaqAnswer(None, 100.0, False, reply, text, small_talk=norm.small_talk)
        ranked = self.matcher.rank(norm)
        outside = bool(ranked) and ranked[0].intent == OUT_OF_SCOPE
        ranked = [c for c in ranked if c.intent != OUT_OF_SCOPE]
        best = ranked[0] if ranked else Candidate("", 0.0)
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        guesses = tuple(self._suggestion(c, reply) for c in ranked[:SUGGESTIONS])
        if outside or best.score < self.cutoff:
            return FaqAnswer(None, best.score, True, reply, None, guesses)
        if best.score - runner_up < self.margin:
            return FaqAnswer(best.intent, best.score, False, reply, None, guesses[:2])
        return self.answer_for(best.intent, reply, score=best.score, suggestions=guesses)

    def answer_for(
        self,
        intent: str,
        lang: Lang,
        score: float = 100.0,
        suggestions: tuple[Suggestion, ...] = (),
    ) -> FaqAnswer:
        """The standard answer of ``intent`` (for example after a "did you mean" button)."""
        entry = self.kb.entry(intent)
        return FaqAnswer(
            intent, score, False, lang, entry.answer[lang], suggestions, entry.follow_up_command
        )

    def _suggestion(self, candidate: Candidate, lang: Lang) -> Suggestion:
        title = self.kb.entry(candidate.intent).title[lang]
        return Suggestion(candidate.intent, candidate.score, title)


def _reply_lang(lang: str, norm: Normalized) -> Lang:
    wanted = lang.strip().lower()
    if wanted.startswith("zh"):
        return "zh"
    if wanted.startswith("en"):
        return "en"
    return norm.reply_lang


@lru_cache(maxsize=4)
def _load(kb_dir: Path) -> FaqEngine:
    return FaqEngine(load_knowledge_base(kb_dir))
