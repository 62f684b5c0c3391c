"""Turn a free-text question into the words the matcher compares.

Steps: NFKC (which also folds full-width letters, digits and spaces to half-width), case folding,
traditional → simplified Chinese (OpenCC ``t2s``), punctuation to spaces, then one left-to-right
pass that drops fillers and small talk and rewrites field synonyms (``faq/kb/lexicon.json``) to a
canonical form per target language. The same function prepares the indexed example questions and
the asked question, so both sides always agree.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

Lang = Literal["zh", "en"]
Detected = Literal["zh", "en", "mixed", "none"]

KB_DIR = Path(__file__).parent / "kb"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEGMENT = re.compile(rf"[{_HAN}]+|[a-z0-9]+")
_HAN_CHAR = re.compile(rf"[{_HAN}]")
_NOT_WORD = re.compile(r"[\W_]+")
_SMALL_TALK_ORDER = ("thanks", "goodbye", "greeting")  # "ok thanks bye" is thanks


@dataclass(frozen=True, slots=True)
class Rewrite:
    """What a variant becomes for each target language ("" = dropped)."""

    zh: str
    en: str
    small_talk: str | None = None


@dataclass(frozen=True, slots=True)
class Lexicon:
    han: dict[str, Rewrite]
    latin: dict[tuple[str, ...], Rewrite]
    max_han: int
    max_latin: int


@dataclass(frozen=True, slots=True)
class Normalized:
    folded: str
    """NFKC, case-folded, simplified, punctuation-free text: the key that groups misses."""
    detected: Detected
    reply_lang: Lang
    zh: str
    """Space-separated words for the Chinese index."""
    en: str
    """Space-separated words for the English index."""
    small_talk: str | None
    """The small-talk kind when the question is nothing but small talk."""


@cache
def _t2s() -> Any:
    # Imported and built on first use: the converter costs ~30 ms that `--help` should not pay.
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """NFKC, casefold, traditional → simplified, punctuation and symbols → single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if _HAN_CHAR.search(text):
        text = _t2s().convert(text)
    # Letters and digits stay; punctuation, symbols and "_" separate words.
    return " ".join(_NOT_WORD.sub(" ", text).split())


def detect_language(folded: str) -> Detected:
    han = len(_HAN_CHAR.findall(folded))
    latin = sum(1 for s in _SEGMENT.findall(folded) if s[0].isalpha() and s.isascii())
    if han and latin:
        return "mixed"
    if han:
        return "zh"
    return "en" if latin else "none"


def reply_language(folded: str, default: Lang = "zh") -> Lang:
    """The language to answer in: Chinese when it has at least as many Han characters as
    English words ("我的claim到哪了"), else English ("my 医保 is suspended")."""
    han = len(_HAN_CHAR.findall(folded))
    latin = sum(1 for s in _SEGMENT.findall(folded) if s[0].isalpha() and s.isascii())
    if not han and not latin:
        return default
    return "zh" if han >= latin else "en"


def _stem(word: str) -> str:
    # Plural "s" only: enough for the leftovers the lexicon does not cover, and never wrong
    # enough to merge unrelated words (full stemmers turn "claims"/"claimed" alike anyway).
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _rewrite_han(run: str, lex: Lexicon, zh: list[str], en: list[str], talk: list[str]) -> None:
    """Greedy longest match inside a run of Han characters."""
    i, rest = 0, []
    while i < len(run):
        for size in range(min(lex.max_han, len(run) - i), 0, -1):
            hit = lex.han.get(run[i : i + size])
            if hit is not None:
                break
        else:
            rest.append(run[i])
            i += 1
            continue
        if rest:  # unmatched characters stay together as one word for the Chinese side
            zh.append("".join(rest))
            rest = []
        _emit(hit, zh, en, talk)
        i += size
    if rest:
        zh.append("".join(rest))


def _rewrite_latin(
    words: list[str], lex: Lexicon, zh: list[str], en: list[str], talk: list[str]
) -> None:
    i = 0
    while i < len(words):
        for size in range(min(lex.max_latin, len(words) - i), 0, -1):
            hit = lex.latin.get(tuple(words[i : i + size]))
            if hit is not None:
                _emit(hit, zh, en, talk)
                i += size
                break
        else:
            word = _stem(words[i])
            zh.append(word)
            en.append(word)
            i += 1


def _emit(hit: Rewrite, zh: list[str], en: list[str], talk: list[str]) -> None:
    if hit.small_talk:
        talk.append(hit.small_talk)
    if hit.zh:
        zh.append(hit.zh)
    if hit.en:
        en.append(hit.en)


@lru_cache(maxsize=8192)
def normalize(
    text: str, default_lang: Lang = "zh", speller: Callable[[str], str] | None = None
) -> Normalized:
    """Prepare ``text`` for both indexes. ``speller`` may replace unknown English words (typos)
    before the lexicon is applied. Cached: the loader's checks and the index build share work,
    and a question asked again costs a dictionary look-up."""
    folded = fold(text)
    lex = lexicon()
    zh: list[str] = []
    en: list[str] = []
    talk: list[str] = []
    latin_run: list[str] = []
    for segment in _SEGMENT.findall(folded):
        if segment.isascii():
            latin_run.append(speller(segment) if speller else segment)
            continue
        _rewrite_latin(latin_run, lex, zh, en, talk)
        latin_run = []
        _rewrite_han(segment, lex, zh, en, talk)
    _rewrite_latin(latin_run, lex, zh, en, talk)
    small_talk = None
    if talk and not zh and not en:
        small_talk = min(talk, key=_SMALL_TALK_ORDER.index)
    return Normalized(
        folded=folded,
        detected=detect_language(folded),
        reply_lang=reply_language(folded, default_lang),
        zh=" ".join(zh),
        en=" ".join(en),
        small_talk=small_talk,
    )


@cache
def lexicon(kb_dir: Path = KB_DIR) -> Lexicon:
    """Read ``lexicon.json`` and ``small_talk.json`` once per process."""
    lex = json.loads((kb_dir / "lexicon.json").read_text(encoding="utf-8"))
    talk = json.loads((kb_dir / "small_talk.json").read_text(encoding="utf-8"))
    han: dict[str, Rewrite] = {}
    latin: dict[tuple[str, ...], Rewrite] = {}

    def add(variant: str, rewrite: Rewrite) -> None:
        # Variants are stored folded, exactly as questions will look when they are looked up.
        words = tuple(_SEGMENT.findall(fold(variant)))
        if len(words) == 1 and not words[0].isascii():
            han[words[0]] = rewrite
        elif words and all(w.isascii() for w in words):
            latin[words] = rewrite
        else:  # "word文档" could never match: questions are looked up one script at a time
            raise ValueError(f"lexicon variant {variant!r} mixes scripts or has no words")

    for word in lex["zh_fillers"] + lex["en_stopwords"]:
        add(word, Rewrite("", ""))
    for kind in _SMALL_TALK_ORDER:
        for phrase in talk["kinds"][kind]["phrases"]:
            add(phrase, Rewrite("", "", kind))
    for concept in lex["concepts"]:
        rewrite = Rewrite(concept["zh"], concept["en"])
        for variant in concept["zh_variants"] + concept["en_variants"]:
            add(variant, rewrite)
    return Lexicon(han, latin, max(map(len, han)), max(map(len, latin)))
