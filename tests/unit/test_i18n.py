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
    sent = set()
    for path in (ROOT / "core" / "services").glob("*.py"):
        sent |= set(re.findall(r'"((?:claim|alert|batch|button)\.[a-z_0-9]+)"', path.read_text()))
    sent |= {f"alert.level{n}" for n in (1, 2, 3)}
    sent |= {"claim.approved", "claim.rejected", "claim.returned"}
    sent -= {
        "claim.approve",
        "claim.reject",
        "claim.return",
        "claim.voucher",
        "batch.approve",
        "batch.return",
        "alert.acknowledge",
        "claim.open",
        "claim.attach",
        "claim.submit",
        "claim.review",
        "claim.hold",
        "claim.resume",
        "claim.withdraw",
        "claim.pay",
        "batch.request_approval",
        "batch.remind_finance",
        "batch.submit",
        "batch.pay",
        "alert.open",
        "alert.reopen",
        "alert.resolve",
        "alert.escalate",
        "alert.level_skipped",
    }
    missing = sorted(key for key in sent if key not in catalog("zh-CN"))
    assert missing == []


def test_unknown_locale_falls_back_to_chinese() -> None:
    assert catalog("fr") is catalog("zh-CN")
