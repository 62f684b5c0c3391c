"""Rank intents for a normalised question: rapidfuzz over the example questions, per language.

Score of an intent (0-100) = ``FUZZY_WEIGHT`` x the rapidfuzz similarity of its closest example
+ the rest x its *coverage*: the IDF-weighted share of the question's words that the intent's
examples use. The fuzzy part rewards a close paraphrase; coverage rewards the right vocabulary in
any order and penalises words the knowledge base has never seen (the best out-of-scope signal:
"wifi 密码", "annual leave").

Chinese is compared character by character (Indel ratio on the normalised text; coverage over
concept words and character bigrams): on the labelled set this beat jieba word segmentation,
which also costs ~0.8 s to load. English is compared word by word: each known word is mapped to
one private-use character, so rapidfuzz's C ratio runs on words, and a long word no longer
outweighs a short one. English typos are fixed beforehand against the knowledge base's own
vocabulary (:meth:`Matcher.spell`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from faq.loader import Entry
from faq.normalize import Detected, Lang, Normalized, fold, lexicon, normalize

FUZZY_WEIGHT = 0.7  # 0.6-0.8 score within a point of each other on the labelled set
MEMBERSHIP = 2  # examples using a word before it fully belongs to the intent (coverage)
CANDIDATES = 40  # closest examples looked at; their intents are the candidates
COPIES_SCALE = 1.0  # a word counts round(IDF x scale) times in the fuzzy ratio, 1 to COPIES_MAX
COPIES_MAX = 3
SPELL_CUTOFF = 85  # typos score 88-96 ("documnets", "langauge"); "printer"→"print" is 83
SPELL_MIN_LEN = 5  # shorter words are too easily turned into another real word
# One character per English word, from the supplementary private-use plane (65,534 code points,
# enough for any vocabulary); an unseen word becomes a character that no example contains.
_PUA = 0xF0000
_UNSEEN = "\ue000"
_SEARCHED: dict[Detected, tuple[Lang, ...]] = {
    "zh": ("zh",),
    "en": ("en",),
    "mixed": ("zh", "en"),  # "我的claim到哪了": both indexes, best score wins
    "none": (),
}
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    intent: str
    score: float


class _LanguageIndex:
    """The examples of one language, prepared for rapidfuzz, plus per-intent vocabularies."""

    def __init__(self, lang: Lang, entries: Sequence[Entry], codes: dict[str, str]) -> None:
        self.lang = lang
        self._codes = codes
        self.owner: list[int] = []
        prepared: list[str] = []
        counts: list[Counter[str]] = [Counter() for _ in entries]
        for number, entry in enumerate(entries):
            for question in entry.examples[lang]:
                words = getattr(normalize(question), lang)
                prepared.append(words)
                self.owner.append(number)
                counts[number].update(set(self.units(words)))
        # How firmly a word belongs to an intent: fully once MEMBERSHIP examples use it, so a
        # word that slipped into one example of a neighbouring intent weighs little there.
        self.vocab = [{u: min(1.0, c / MEMBERSHIP) for u, c in cnt.items()} for cnt in counts]
        frequency = Counter(unit for v in self.vocab for unit in v)
        n = len(entries)
        # Smoothed IDF over intents; an unseen unit weighs like one seen in no intent at all.
        self.idf = {unit: math.log((n + 1) / (df + 0.5)) for unit, df in frequency.items()}
        self.idf_unseen = math.log((n + 1) / 0.5)
        self.choices = [self.encode(words, grow=True) for words in prepared]

    def encode(self, words: str, grow: bool = False) -> str:
        if self.lang == "zh":
            return words.replace(" ", "")
        out = []
        for word in words.split():
            code = self._codes.get(word)
            if code is None:
                if grow:
                    code = self._codes[word] = chr(_PUA + len(self._codes))
                else:
                    code = _UNSEEN
            # A word is repeated by its weight, so the ratio counts a rare word ("legal") more
            # than a common one ("company"), as coverage does.
            out.append(code * _copies(self.idf.get(word, self.idf_unseen)))
        return "".join(out)

    def units(self, words: str) -> list[str]:
        """Coverage units: whole words, except that Chinese text outside the lexicon is cut
        into character bigrams (a single character when alone)."""
        concepts = _concept_words()
        units: list[str] = []
        for word in words.split():
            if self.lang == "en" or word.isascii() or word in concepts or len(word) == 1:
                units.append(word)
            else:
                units.extend(word[i : i + 2] for i in range(len(word) - 1))
        return units

    def rank(self, words: str, entries: Sequence[Entry]) -> dict[str, float]:
        query = self.encode(words)
        hits = process.extract(query, self.choices, scorer=fuzz.ratio, limit=CANDIDATES)
        best: dict[int, float] = {}
        for _, similarity, position in hits:
            number = self.owner[position]
            best[number] = max(best.get(number, 0.0), similarity)
        units = self.units(words)
        weights = [self.idf.get(unit, self.idf_unseen) for unit in units]
        total = sum(weights) or 1.0
        scores = {}
        for number, similarity in best.items():
            vocab = self.vocab[number]
            covered = sum(w * vocab.get(u, 0.0) for u, w in zip(units, weights, strict=True))
            score = FUZZY_WEIGHT * similarity + (1 - FUZZY_WEIGHT) * 100 * covered / total
            scores[entries[number].id] = score
        return scores


class Matcher:
    """Built once per knowledge base; :meth:`rank` is then pure and thread-safe."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._entries = tuple(entries)
        codes: dict[str, str] = {}
        self._indexes = {lang: _LanguageIndex(lang, self._entries, codes) for lang in ("zh", "en")}
        known = {w for key in lexicon().latin for w in key}
        for entry in self._entries:
            for question in entry.examples["en"] + entry.examples["zh"]:
                known.update(_WORD.findall(fold(question)))
        self._known = frozenset(known)
        self._spelling = sorted(w for w in known if len(w) >= SPELL_MIN_LEN - 1)

    def spell(self, word: str) -> str:
        """The knowledge-base word closest to an unknown English word, or the word itself."""
        if len(word) < SPELL_MIN_LEN or word in self._known or not word.isalpha():
            return word
        hit = process.extractOne(word, self._spelling, scorer=fuzz.ratio, score_cutoff=SPELL_CUTOFF)
        return hit[0] if hit else word

    def rank(self, question: Normalized) -> list[Candidate]:
        """Candidates, best first. Mixed-language questions are matched in both languages."""
        scores: dict[str, float] = {}
        for lang in _SEARCHED[question.detected]:
            words = getattr(question, lang)
            if words:
                for intent, score in self._indexes[lang].rank(words, self._entries).items():
                    scores[intent] = max(scores.get(intent, 0.0), score)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        return [Candidate(intent, round(score, 1)) for intent, score in ranked]


def _copies(idf: float) -> int:
    return max(1, min(COPIES_MAX, round(idf * COPIES_SCALE)))


@cache
def _concept_words() -> frozenset[str]:
    """The Chinese canonical words: kept whole as coverage units."""
    lex = lexicon()
    rewrites = list(lex.han.values()) + list(lex.latin.values())
    return frozenset(word for r in rewrites for word in r.zh.split())
