"""The two catalogs stay in step: same keys, same placeholders, and every notice key is there."""

from __future__ import annotations

import re
from pathlib import Path

from bot.i18n import catalog, placeholders

ROOT = Path(__file__).resolve().parents[2]


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    assert set(zh) == set(en)
    for key in zh:
        assert placeholders(zh[key]) == placeholders(en[key]), key


def test_every_message_key_the_core_sends_is_translated() -> None:
    literal = re.compile(r"notify\(\s*ctx,\s*uow,\s*[\w.]+,\s*\"([a-z_.0-9]+)\"", re.S)
    sent = {"delivery.dead_letter", "claim.approved", "claim.rejected", "claim.returned"}
    for path in (ROOT / "core" / "services").glob("*.py"):
        sent |= set(literal.findall(path.read_text()))
    sent |= {
        f"{prefix}.level{n}"
        for prefix in ("alert", "alert.batch", "alert.status")
        for n in (1, 2, 3)
    }
    assert "claim.held" in sent and "batch.deadline_soon" in sent
    missing = sorted(key for key in sent if key not in catalog("zh-CN"))
    assert missing == []


def test_unknown_locale_falls_back_to_chinese() -> None:
    assert catalog("fr") is catalog("zh-CN")
