"""Numbers typed into free text are masked before HR sees or the database keeps them."""

from __future__ import annotations

import pytest

from core.domain.masking import mask_free_text


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("收款卡换成 6222021234567890128 了", "收款卡换成 6222***********0128 了"),
        ("卡号 6222 0212 3456 7890", "卡号 6222********7890"),
        ("身份证11010519491231002x", "身份证1101**********002X"),
        ("电话 139-1234-5678。", "电话 139****5678。"),
        ("+86 13912345678", "+86 139****5678"),
    ],
)
def test_cards_id_numbers_and_mobiles_are_masked(typed: str, kept: str) -> None:
    assert mask_free_text(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "住院 2026-10-12 到 2026-11-30，报销 8,650.00 元",
        "报销单 C000001 工号 E1001",
        "我的社保基数 12000",
        "",
    ],
)
def test_dates_amounts_and_references_stay_as_typed(typed: str) -> None:
    assert mask_free_text(typed) == typed
