"""``hrbot demo`` plays the seed scenario end to end and says so only when every step held."""

from __future__ import annotations

import subprocess
import sys

from bot.demo.scenario import run_demo


def test_demo_in_chinese_passes_every_step() -> None:
    lines: list[str] = []
    assert run_demo("zh-CN", out=lines.append)
    text = "\n".join(lines)
    assert "✘" not in text
    for step in range(1, 8):
        assert f"━━ {step}." in text
    assert "刘强" in text and "陈静" in text  # step 7 reaches the manager and the director


def test_demo_in_english_passes_every_step() -> None:
    lines: list[str] = []
    assert run_demo("en", out=lines.append)
    assert "All 7 steps happened as scripted" in lines[-1]


def test_demo_command_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "demo", "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Zhang San" in done.stdout
