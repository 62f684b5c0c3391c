"""The hand-off log: append-only JSON lines, summarised most frequent first."""

from __future__ import annotations

import json
from pathlib import Path

from faq.engine import FaqEngine
from faq.misses import Handoff, misses_path, record, summarize


def test_path_comes_from_the_environment(misses_file: Path) -> None:
    assert misses_path() == misses_file


def test_handoff_record_keeps_question_language_asker_and_guesses(engine: FaqEngine) -> None:
    answer = engine.ask("公司wifi密码是多少")
    handoff = Handoff.from_answer(" 公司wifi密码是多少 ", answer, asker="E001")
    payload = handoff.to_json()
    assert payload["question"] == "公司wifi密码是多少"
    assert payload["lang"] == "zh"
    assert payload["asker"] == "E001"
    assert isinstance(payload["best_guesses"], list)


def test_summary_groups_by_normalised_question_most_frequent_first(misses_file: Path) -> None:
    record(
        [
            Handoff("年假还剩几天", "zh", None, (("contact_hr", 30.0),), at="2026-01-01T00:00:00"),
            Handoff("wifi password?", "en", None, (), at="2026-01-02T00:00:00"),
            Handoff("年假还剩几天？", "zh", None, (), at="2026-01-03T00:00:00"),
        ]
    )
    record([Handoff("Wifi password", "en", None, (), at="2026-01-04T00:00:00")])
    record([Handoff("canteen menu", "en", None, (), at="2026-01-05T00:00:00")])
    summary = summarize()
    assert [(m.question, m.count) for m in summary] == [
        ("Wifi password", 2),
        ("年假还剩几天？", 2),
        ("canteen menu", 1),
    ]
    assert misses_file.parent.is_dir()


def test_torn_lines_are_skipped(misses_file: Path) -> None:
    misses_file.parent.mkdir(parents=True)
    good = json.dumps({"question": "canteen", "lang": "en", "at": "2026-01-01"})
    misses_file.write_text(good + '\n{"question": "tor', encoding="utf-8")
    assert [m.question for m in summarize()] == ["canteen"]


def test_no_file_means_no_misses() -> None:
    assert summarize() == []
