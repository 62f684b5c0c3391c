"""Normalisation: width, case, script, punctuation, fillers, synonyms, language."""

from __future__ import annotations

import pytest

from faq.normalize import detect_language, fold, normalize, reply_language


def test_fold_nfkc_full_width_case_and_punctuation() -> None:
    assert fold("ＰＤＦ　可以吗？！") == "pdf 可以吗"
    assert fold("HELLO, World!!") == "hello world"


def test_fold_converts_traditional_to_simplified() -> None:
    assert fold("住院報銷需要哪些資料") == "住院报销需要哪些资料"
    assert fold("醫保卡被凍結了") == "医保卡被冻结了"


def test_traditional_and_simplified_questions_normalise_alike() -> None:
    assert normalize("醫保卡被凍結了怎麼辦").zh == normalize("医保卡被冻结了怎么办").zh


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("请问住院报销需要哪些材料呢？", "住院 报销 需要 材料"),
        ("Hi, please tell me: where is my claim?", "where claim"),
    ],
)
def test_fillers_and_politeness_are_dropped(question: str, words: str) -> None:
    norm = normalize(question)
    assert (norm.zh if norm.detected == "zh" else norm.en) == words


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("五险一金延迟了", "社保逾期了"),
        ("入院报销", "住院理赔"),
        ("垫付的钱", "自己掏钱的钱"),
    ],
)
def test_chinese_synonyms_meet(a: str, b: str) -> None:
    assert normalize(a).zh == normalize(b).zh


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("social insurance is overdue", "shebao is late"),
        ("hospitalization reimbursement", "inpatient claim"),
        ("I paid out of pocket", "I paid myself"),
    ],
)
def test_english_synonyms_meet(a: str, b: str) -> None:
    assert normalize(a).en == normalize(b).en


def test_mixed_question_reaches_both_languages() -> None:
    norm = normalize("我的claim到哪了")
    assert norm.detected == "mixed"
    assert norm.zh == "报销 进度"
    assert norm.en == "claim progress"


@pytest.mark.parametrize(
    ("text", "detected", "reply"),
    [
        ("社保怎么查", "zh", "zh"),
        ("how do I check my claim", "en", "en"),
        ("社保overdue怎么办", "mixed", "zh"),
        ("my 医保 card is suspended", "mixed", "en"),
        ("???", "none", "zh"),
    ],
)
def test_language_detection(text: str, detected: str, reply: str) -> None:
    folded = fold(text)
    assert detect_language(folded) == detected
    assert reply_language(folded) == reply


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("你好！", "greeting"),
        ("Hello", "greeting"),
        ("谢谢", "thanks"),
        ("ok thanks, bye", "thanks"),
        ("再见", "goodbye"),
    ],
)
def test_small_talk_alone_is_recognised(text: str, kind: str) -> None:
    assert normalize(text).small_talk == kind


def test_small_talk_inside_a_question_is_only_dropped() -> None:
    norm = normalize("hi, where is my claim?")
    assert norm.small_talk is None
    assert norm.en == "where claim"


def test_speller_fixes_unknown_english_words_before_synonyms() -> None:
    fixes = {"reimbursment": "reimbursement"}
    norm = normalize("reimbursment status", "zh", lambda w: fixes.get(w, w))
    assert norm.en.split()[0] == "claim"
