"""The decision rule of FaqEngine.ask: answer, did you mean, hand-off, small talk."""

from __future__ import annotations

import pytest

from faq.engine import FaqEngine


def test_answer_carries_text_command_and_suggestions(engine: FaqEngine) -> None:
    answer = engine.ask("how do I check my contribution history")
    assert answer.status == "answer"
    assert answer.intent == "contribution_records"
    assert answer.lang == "en"
    assert answer.answer and "/status" in answer.answer
    assert answer.follow_up_command == "/status"
    assert answer.suggestions[0].intent == "contribution_records"
    assert answer.score >= engine.cutoff


def test_reply_language_follows_the_question_or_the_caller(engine: FaqEngine) -> None:
    assert engine.ask("医保卡被冻结了怎么办").lang == "zh"
    english = engine.ask("医保卡被冻结了怎么办", lang="en")
    assert english.lang == "en"
    assert english.answer == engine.kb.entry(english.intent or "").answer["en"]
    assert engine.ask("my medical card is frozen", lang="zh-CN").lang == "zh"


def test_out_of_scope_is_handed_off_without_an_answer(engine: FaqEngine) -> None:
    answer = engine.ask("公司wifi密码是多少")
    assert answer.status == "handoff"
    assert answer.intent is None
    assert answer.answer is None
    assert answer.handoff


def test_close_call_offers_the_two_best(engine: FaqEngine) -> None:
    strict = FaqEngine(engine.kb, cutoff=engine.cutoff, margin=101.0)
    answer = strict.ask("住院报销需要哪些材料")
    assert answer.status == "did_you_mean"
    assert not answer.handoff
    assert answer.answer is None
    assert answer.intent == "hospital_claim_documents"
    assert answer.suggestions[0].intent == "hospital_claim_documents"
    assert len(answer.suggestions) == 2
    assert all(s.title for s in answer.suggestions)


@pytest.mark.parametrize(("text", "kind"), [("你好", "greeting"), ("thanks!", "thanks")])
def test_small_talk_is_answered_not_handed_off(engine: FaqEngine, text: str, kind: str) -> None:
    answer = engine.ask(text)
    assert answer.small_talk == kind
    assert answer.status == "small_talk"
    assert not answer.handoff
    assert answer.intent is None
    assert answer.answer


def test_punctuation_only_is_a_handoff(engine: FaqEngine) -> None:
    answer = engine.ask("？？？")
    assert answer.handoff
    assert answer.score == 0.0


def test_empty_question_is_an_error(engine: FaqEngine) -> None:
    with pytest.raises(ValueError, match="empty"):
        engine.ask("   ")


def test_answer_for_a_button_click(engine: FaqEngine) -> None:
    answer = engine.answer_for("claim_progress", "zh")
    assert answer.intent == "claim_progress"
    assert answer.answer == engine.kb.entry("claim_progress").answer["zh"]


def test_contract_json_has_exactly_the_contract_keys(engine: FaqEngine) -> None:
    payload = engine.ask("where is my claim").contract_json()
    assert list(payload) == ["intent", "score", "handoff", "lang", "answer"]


def test_load_is_cached(engine: FaqEngine) -> None:
    assert FaqEngine.load() is FaqEngine.load()
