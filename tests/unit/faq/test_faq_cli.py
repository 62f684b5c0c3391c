"""``hrbot faq`` as the contract (shared/faq-intents.md) describes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.faq_cli import faq_app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()
KEYS = {"intent", "score", "handoff", "lang", "answer"}


def _shape(obj: dict[str, object]) -> None:
    assert set(obj) == KEYS
    assert obj["intent"] is None or isinstance(obj["intent"], str)
    assert isinstance(obj["score"], float) and 0.0 <= obj["score"] <= 100.0
    assert isinstance(obj["handoff"], bool)
    assert obj["lang"] in ("zh", "en")
    assert obj["answer"] is None or isinstance(obj["answer"], str)


def test_ask_json_done_check() -> None:
    result = runner.invoke(faq_app, ["ask", "--json", "住院报销需要哪些材料"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    _shape(payload)
    assert payload["intent"] == "hospital_claim_documents"
    assert payload["handoff"] is False
    assert payload["lang"] == "zh"


def test_ask_json_handoff_shape_and_record(misses_file: Path) -> None:
    result = runner.invoke(faq_app, ["ask", "--json", "--lang", "en", "公司wifi密码是多少"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    _shape(payload)
    assert payload == {**payload, "intent": None, "handoff": True, "lang": "en", "answer": None}
    recorded = [json.loads(line) for line in misses_file.read_text("utf-8").splitlines()]
    assert [r["question"] for r in recorded] == ["公司wifi密码是多少"]


@pytest.mark.parametrize("question", ["", "   ", "\t"])
def test_empty_question_is_exit_2_with_one_line_on_stderr(question: str) -> None:
    result = runner.invoke(faq_app, ["ask", "--json", question])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "empty question" in result.stderr


def test_stdin_mode_one_object_per_line_in_order(misses_file: Path) -> None:
    questions = ["住院报销需要哪些材料", "", "hello", "where is my claim", "食堂今天吃什么"]
    result = runner.invoke(faq_app, ["ask", "--json", "-"], input="\n".join(questions) + "\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(questions)
    assert lines[1] == {"error": "empty question"}
    for line in lines[:1] + lines[2:]:
        _shape(line)
    assert lines[0]["intent"] == "hospital_claim_documents"
    assert lines[2]["handoff"] is False and lines[2]["intent"] is None  # small talk
    assert lines[3]["intent"] == "claim_progress"
    assert lines[4]["handoff"] is True
    assert len(misses_file.read_text("utf-8").splitlines()) == 1


def test_text_mode_shows_answer_and_command() -> None:
    result = runner.invoke(faq_app, ["ask", "my claim was rejected, why?"])
    assert result.exit_code == 0
    assert "claim_rejected" in result.stdout
    assert "/progress" in result.stdout


def test_check_prints_coverage_per_intent_and_language() -> None:
    result = runner.invoke(faq_app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:3] == ["intent", "zh", "en"]
    assert "hospital_claim_documents" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("ok: 24 intents")


def test_check_reports_a_broken_knowledge_base_on_one_line(kb_copy: Path) -> None:
    (kb_copy / "intents" / "contact_hr.json").unlink()
    result = runner.invoke(faq_app, ["check", "--kb", str(kb_copy)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "contact_hr" in result.stderr


def test_misses_lists_most_frequent_first() -> None:
    for question in ["年假还剩几天", "canteen menu?", "年假还剩几天？"]:
        assert runner.invoke(faq_app, ["ask", "--json", question]).exit_code == 0
    result = runner.invoke(faq_app, ["misses"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "2" and "年假还剩几天" in lines[0]
    assert lines[1].split()[0] == "1" and "canteen" in lines[1]
    as_json = runner.invoke(faq_app, ["misses", "--json", "--limit", "1"])
    assert [json.loads(x)["count"] for x in as_json.stdout.splitlines()] == [2]


def test_misses_when_none_recorded() -> None:
    result = runner.invoke(faq_app, ["misses"])
    assert result.exit_code == 0
    assert "No unanswered questions" in result.stdout


@pytest.mark.slow
def test_stdin_mode_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "HRBOT_FAQ_MISSES_FILE": str(tmp_path / "m.jsonl")}
    done = subprocess.run(
        [sys.executable, "-c", "from bot.faq_cli import faq_app; faq_app()", "ask", "--json", "-"],
        input="醫保卡被凍結了怎麼辦\n\nhow long until the money reaches my bank account\n".encode(),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [line.get("intent") for line in lines] == [
        "medical_account_frozen",
        None,
        "claim_payout_time",
    ]
    assert lines[1] == {"error": "empty question"}
