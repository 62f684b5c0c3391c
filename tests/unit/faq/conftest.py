"""Fixtures for the FAQ tests: the engine, the labelled questions, a scratch knowledge base."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faq.engine import FaqEngine
from faq.normalize import KB_DIR

LABELLED = Path(__file__).with_name("labelled_questions.json")


@pytest.fixture(scope="session")
def engine() -> FaqEngine:
    return FaqEngine.load()


@pytest.fixture(scope="session")
def labelled() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LABELLED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(autouse=True)
def misses_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test writes hand-offs to its own file, never to ./var of the working tree."""
    path = tmp_path / "misses" / "faq-misses.jsonl"
    monkeypatch.setenv("HRBOT_FAQ_MISSES_FILE", str(path))
    yield path


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged knowledge base, for breaking it on purpose."""
    target = tmp_path / "kb"
    shutil.copytree(KB_DIR, target)
    return target
