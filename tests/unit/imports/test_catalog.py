"""Every reason the import can give is translated, in both languages, with the same blanks."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.i18n import placeholders
from bot.import_report import Texts, _catalog
from core.imports.report import Issue

ROOT = Path(__file__).resolve().parents[3]
_CODE_ARGUMENT = {"issue": 3, "FieldError": 0, "SourceError": 0, "HeaderIssue": 1}


def reasons_the_core_gives() -> set[str]:
    found = set()
    for path in (ROOT / "core" / "imports").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            index = _CODE_ARGUMENT.get(str(name))
            if index is not None and len(node.args) > index:
                argument = node.args[index]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    prefix = "source." if name == "SourceError" else "reason."
                    found.add(prefix + argument.value)
    return found


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    zh, en = _catalog("zh-CN"), _catalog("en")
    assert set(zh) == set(en)
    for key in zh:
        assert placeholders(zh[key]) == placeholders(en[key]), key


def test_every_reason_is_translated() -> None:
    reasons = reasons_the_core_gives()
    assert len(reasons) > 30  # the scan found them: it is not vacuously true
    assert sorted(reasons - set(_catalog("en"))) == []


def test_reasons_render_in_the_users_language() -> None:
    issue = Issue(5, "工号", "E404", "duplicate_in_file", {"first": 3})
    assert Texts("zh-CN").reason(issue) == "与第 3 行重复"
    assert Texts("en").reason(issue) == "same as row 3"
    assert Texts("en").reason(Issue(1, "x", "", "no_such_code")) == "reason.no_such_code"
