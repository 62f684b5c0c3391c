"""The engine against the labelled questions, which are kept apart from the indexed examples."""

from __future__ import annotations

from typing import Any

from faq.contract import REQUIRED_INTENT_IDS
from faq.engine import FaqEngine
from faq.normalize import normalize


def test_labelled_set_covers_every_intent_in_both_languages(labelled: dict[str, Any]) -> None:
    in_scope = labelled["in_scope"]
    assert set(in_scope) == set(REQUIRED_INTENT_IDS)
    for intent, questions in in_scope.items():
        langs = {normalize(q).detected for q in questions}
        assert len(questions) >= 8, intent
        assert {"zh", "en"} <= langs, intent
    assert len(labelled["out_of_scope"]) >= 30


def test_labelled_questions_are_not_indexed_examples(
    engine: FaqEngine, labelled: dict[str, Any]
) -> None:
    """The accuracy below measures generalisation only if no labelled question is, after
    normalisation, one of the example questions the matcher indexes."""
    indexed: set[tuple[str, str]] = set()
    entries = list(engine.kb.entries)
    if engine.kb.out_of_scope:
        entries.append(engine.kb.out_of_scope)
    for entry in entries:
        for lang in ("zh", "en"):
            for example in entry.examples[lang]:
                norm = normalize(example)
                indexed.add(("folded", norm.folded))
                indexed.add((lang, getattr(norm, lang)))
    questions = [q for qs in labelled["in_scope"].values() for q in qs]
    questions += labelled["out_of_scope"]
    overlap = []
    for question in questions:
        norm = normalize(question)
        langs = {"zh": ["zh"], "en": ["en"], "mixed": ["zh", "en"]}.get(norm.detected, [])
        keys = [("folded", norm.folded)] + [(lang, getattr(norm, lang)) for lang in langs]
        if any(key in indexed for key in keys):
            overlap.append(question)
    assert overlap == []


def test_top1_accuracy_in_scope_is_at_least_95_percent(
    engine: FaqEngine, labelled: dict[str, Any]
) -> None:
    results = [
        (intent, question, engine.ask(question))
        for intent, questions in labelled["in_scope"].items()
        for question in questions
    ]
    wrong = [(i, q, a.intent, a.score) for i, q, a in results if a.handoff or a.intent != i]
    accuracy = 1 - len(wrong) / len(results)
    assert accuracy >= 0.95, wrong


def test_out_of_scope_questions_are_handed_off(engine: FaqEngine, labelled: dict[str, Any]) -> None:
    answers = [(q, engine.ask(q)) for q in labelled["out_of_scope"]]
    answered = [(q, a.intent, a.score) for q, a in answers if not a.handoff]
    assert 1 - len(answered) / len(answers) >= 0.90, answered


def test_done_check_question(engine: FaqEngine) -> None:
    answer = engine.ask("住院报销需要哪些材料")
    assert answer.intent == "hospital_claim_documents"
    assert not answer.handoff
    assert answer.answer and "住院证" in answer.answer
