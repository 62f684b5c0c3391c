"""The loader refuses each kind of broken knowledge base, naming the entry at fault."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faq.contract import REQUIRED_INTENT_IDS
from faq.loader import KnowledgeBaseError, load_knowledge_base, parse_entry, validate

CONTRACT = Path(__file__).resolve().parents[4] / "shared" / "faq-intents.md"


def _edit(kb: Path, intent: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = kb / "intents" / f"{intent}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def _refused(kb: Path) -> KnowledgeBaseError:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(kb)
    return caught.value


def test_packaged_knowledge_base_loads() -> None:
    kb = load_knowledge_base()
    assert [e.id for e in kb.entries] == sorted(REQUIRED_INTENT_IDS)
    assert set(kb.small_talk) == {"greeting", "thanks", "goodbye"}
    assert kb.out_of_scope is not None


def test_contract_ids_match_shared_faq_intents() -> None:
    if not CONTRACT.exists():
        pytest.skip("shared/faq-intents.md is not beside the repository")
    table = re.findall(r"^\| `([a-z_]+)` \|", CONTRACT.read_text(encoding="utf-8"), re.M)
    assert set(table) == set(REQUIRED_INTENT_IDS)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["answer"].pop("en"), "answer has no en version"),
        (lambda d: d["answer"].update(zh="  "), "answer.zh is empty"),
        (lambda d: d["title"].pop("zh"), "title has no zh version"),
        (lambda d: d["examples"].update(en=d["examples"]["en"][:2]), "examples.en needs at least"),
        (lambda d: d["examples"]["zh"].append(""), "examples.zh is empty"),
        (lambda d: d.update(anwser="typo"), "unknown field(s) anwser"),
        (lambda d: d.update(follow_up_command="status"), "follow_up_command must be"),
        (lambda d: d.update(tags="claim"), "tags must be a list"),
    ],
)
def test_broken_entry_is_refused_by_name(
    kb_copy: Path, change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    _edit(kb_copy, "claim_progress", change)
    error = _refused(kb_copy)
    assert error.entry == "claim_progress"
    assert problem in str(error)
    assert "claim_progress" in str(error)


def test_missing_contract_intent_is_refused(kb_copy: Path) -> None:
    (kb_copy / "intents" / "contact_hr.json").unlink()
    error = _refused(kb_copy)
    assert error.entry == "contact_hr"
    assert "missing" in str(error)


def test_file_named_after_another_id_is_refused(kb_copy: Path) -> None:
    source = kb_copy / "intents" / "contact_hr.json"
    (kb_copy / "intents" / "contact_hr_copy.json").write_bytes(source.read_bytes())
    error = _refused(kb_copy)
    assert error.entry == "contact_hr"
    assert "contact_hr_copy.json" in str(error)


def test_duplicate_ids_are_refused() -> None:
    entry = load_knowledge_base().entry("contact_hr")
    with pytest.raises(KnowledgeBaseError, match="used twice") as caught:
        validate([entry, entry], required=[])
    assert caught.value.entry == "contact_hr"


def test_same_example_in_two_intents_is_refused(kb_copy: Path) -> None:
    taken = load_knowledge_base().entry("claim_progress").examples["zh"][0]
    _edit(kb_copy, "contact_hr", lambda d: d["examples"]["zh"].append(taken))
    error = _refused(kb_copy)
    assert error.entry == "contact_hr"
    assert "claim_progress" in str(error)


def test_invalid_json_names_the_file(kb_copy: Path) -> None:
    (kb_copy / "intents" / "claim_progress.json").write_text("{not json", encoding="utf-8")
    error = _refused(kb_copy)
    assert error.entry == "claim_progress"
    assert "cannot be read" in str(error)


def test_bad_id_is_refused() -> None:
    with pytest.raises(KnowledgeBaseError, match="snake_case") as caught:
        parse_entry({"id": "Claim Progress"}, "inline")
    assert caught.value.entry == "Claim Progress"


def test_small_talk_without_a_language_is_refused(kb_copy: Path) -> None:
    path = kb_copy / "small_talk.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["kinds"]["thanks"]["answer"]["en"]
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    error = _refused(kb_copy)
    assert error.entry == "small_talk.thanks"
