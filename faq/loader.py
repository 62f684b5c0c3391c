"""Load the knowledge base (``faq/kb/``) and refuse a broken one, loudly and by name.

Layout: ``intents/<id>.json`` holds one intent each (id, tags, follow-up command, title, answer
and example questions in zh and en); ``out_of_scope.json`` questions hrbot must hand off (other HR,
IT and office topics); ``small_talk.json`` the small-talk answers; ``lexicon.json`` the synonyms
(read by :mod:`faq.normalize`). A mistake is reported as one
:class:`KnowledgeBaseError` naming the entry and the file, at start-up rather than mid-chat.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from faq.contract import REQUIRED_INTENT_IDS
from faq.normalize import KB_DIR, Lang, normalize

LANGS: tuple[Lang, ...] = ("zh", "en")
MIN_EXAMPLES = 5  # per language: fewer cannot cover the ways people ask
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {"id", "tags", "follow_up_command", "title", "answer", "examples"}
OUT_OF_SCOPE = "_out_of_scope"
"""Pseudo-intent of ``out_of_scope.json``: matched like an intent, never answered."""


class KnowledgeBaseError(ValueError):
    """The knowledge base is unusable; ``entry`` names the intent (or file) at fault."""

    def __init__(self, entry: str, problem: str, source: str | None = None) -> None:
        where = f" ({source})" if source else ""
        super().__init__(f"knowledge base entry {entry!r}{where}: {problem}")
        self.entry = entry
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    tags: tuple[str, ...]
    title: Mapping[Lang, str]
    answer: Mapping[Lang, str]
    examples: Mapping[Lang, tuple[str, ...]]
    follow_up_command: str | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    small_talk: Mapping[str, Mapping[Lang, str]]
    out_of_scope: Entry | None = None

    def entry(self, intent: str) -> Entry:
        for entry in self.entries:
            if entry.id == intent:
                return entry
        raise KeyError(intent)


def _texts(raw: Any, field: str, entry: str, source: str) -> dict[Lang, Any]:
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(entry, f"{field} must be an object with zh and en", source)
    missing = [lang for lang in LANGS if lang not in raw]
    if missing:
        raise KnowledgeBaseError(entry, f"{field} has no {'/'.join(missing)} version", source)
    return {lang: raw[lang] for lang in LANGS}


def _text(value: Any, field: str, entry: str, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeBaseError(entry, f"{field} is empty", source)
    return value.strip()


def parse_entry(raw: Any, source: str) -> Entry:
    """Validate one intent document; ``source`` names where it came from in errors."""
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(source, "is not a JSON object", source)
    entry = raw.get("id")
    if not isinstance(entry, str) or not _ID.match(entry):
        raise KnowledgeBaseError(str(entry), "id must be snake_case letters and digits", source)
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise KnowledgeBaseError(entry, f"unknown field(s) {', '.join(unknown)}", source)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise KnowledgeBaseError(entry, "tags must be a list of words", source)
    command = raw.get("follow_up_command")
    if command is not None and (not isinstance(command, str) or not command.startswith("/")):
        raise KnowledgeBaseError(entry, "follow_up_command must be null or like /status", source)
    title = {
        lang: _text(t, f"title.{lang}", entry, source)
        for lang, t in _texts(raw.get("title"), "title", entry, source).items()
    }
    answer = {
        lang: _text(a, f"answer.{lang}", entry, source)
        for lang, a in _texts(raw.get("answer"), "answer", entry, source).items()
    }
    examples: dict[Lang, tuple[str, ...]] = {}
    for lang, items in _texts(raw.get("examples"), "examples", entry, source).items():
        if not isinstance(items, list) or len(items) < MIN_EXAMPLES:
            raise KnowledgeBaseError(
                entry, f"examples.{lang} needs at least {MIN_EXAMPLES} questions", source
            )
        examples[lang] = tuple(_text(q, f"examples.{lang}", entry, source) for q in items)
    return Entry(entry, tuple(tags), title, answer, examples, command)


def validate(entries: Iterable[Entry], required: Iterable[str] = REQUIRED_INTENT_IDS) -> None:
    """Checks across entries: unique ids, every contract id present, and no example question
    that normalises to nothing or to the same words as an example of another intent (the
    matcher could not tell them apart)."""
    seen: dict[str, Entry] = {}
    owner: dict[tuple[Lang, str], str] = {}
    for entry in entries:
        if entry.id in seen:
            raise KnowledgeBaseError(entry.id, "id is used twice")
        seen[entry.id] = entry
        for lang in LANGS:
            for question in entry.examples[lang]:
                words = getattr(normalize(question), lang)
                if not words:
                    raise KnowledgeBaseError(entry.id, f"example {question!r} has no content words")
                other = owner.setdefault((lang, words), entry.id)
                if other != entry.id:
                    raise KnowledgeBaseError(
                        entry.id, f"example {question!r} is the same question as one of {other!r}"
                    )
    missing = [intent for intent in required if intent not in seen]
    if missing:
        raise KnowledgeBaseError(
            missing[0], "intent of faq-intents.md is missing: " + ", ".join(missing)
        )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KnowledgeBaseError(path.stem, f"cannot be read: {exc}", str(path)) from exc


def _small_talk(path: Path) -> dict[str, dict[Lang, str]]:
    raw = _read_json(path)
    kinds = raw.get("kinds") if isinstance(raw, dict) else None
    if not isinstance(kinds, dict) or not kinds:
        raise KnowledgeBaseError("small_talk", "needs a 'kinds' object", str(path))
    result: dict[str, dict[Lang, str]] = {}
    for kind, body in kinds.items():
        answers = _texts(
            body.get("answer") if isinstance(body, dict) else None,
            "answer",
            f"small_talk.{kind}",
            str(path),
        )
        result[kind] = {
            lang: _text(text, f"answer.{lang}", f"small_talk.{kind}", str(path))
            for lang, text in answers.items()
        }
    return result


def load_knowledge_base(
    kb_dir: Path = KB_DIR, required: Iterable[str] = REQUIRED_INTENT_IDS
) -> KnowledgeBase:
    """Read and validate every file; raises :class:`KnowledgeBaseError` on the first fault.

    The lexicon (synonyms, fillers, small-talk phrases) is always the packaged one, since it
    decides how every example is normalised; ``kb_dir`` supplies the rest."""
    files = sorted((kb_dir / "intents").glob("*.json"))
    entries = []
    for path in files:
        entry = parse_entry(_read_json(path), str(path))
        if entry.id != path.stem:
            raise KnowledgeBaseError(entry.id, f"file name should be {entry.id}.json", str(path))
        entries.append(entry)
    out_of_scope = _out_of_scope(kb_dir / "out_of_scope.json")
    validate(entries + ([out_of_scope] if out_of_scope else []), required)
    return KnowledgeBase(tuple(entries), _small_talk(kb_dir / "small_talk.json"), out_of_scope)


def _out_of_scope(path: Path) -> Entry | None:
    if not path.exists():  # optional: without it, only the cutoff hands questions off
        return None
    raw = _read_json(path)
    examples = raw.get("examples") if isinstance(raw, dict) else None
    placeholder = {"zh": "-", "en": "-"}
    document = {
        "id": "out_of_scope",
        "title": placeholder,
        "answer": placeholder,
        "examples": examples,
    }
    # The id regex keeps intents from starting with "_", so this one can never collide.
    return replace(parse_entry(document, str(path)), id=OUT_OF_SCOPE)
