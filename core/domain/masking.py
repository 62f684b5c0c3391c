"""Masking numbers people type into free text (PIPL: keep no more than the purpose needs).

A question passed to HR may hold an ID number, a bank card number or a phone number although
the bot asks for none of them. They are masked before the text is stored or sent on: the first
and last four digits of long numbers (``6222***********0128``, as ID numbers are shown
everywhere), the middle four of a mobile number (``139****5678``). Digit groups separated by
single spaces or hyphens count as one number, as cards and phones are usually written.
"""

from __future__ import annotations

import re

from core.domain.idnumbers import mask_id_number

_EDGE_BEFORE, _EDGE_AFTER = r"(?<![\dA-Za-z])", r"(?![\dA-Za-z])"
_LONG_NUMBER = re.compile(
    _EDGE_BEFORE + r"(?:\d{12,18}[\dXx]|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4}[Xx]?))" + _EDGE_AFTER
)
"""13 to 19 digits, the last maybe X (cards, ID numbers), run together or in groups of four."""
_MOBILE = re.compile(
    _EDGE_BEFORE + r"(?P<prefix>\+?86[ -]?)?(?P<number>1[3-9]\d[ -]?\d{4}[ -]?\d{4})" + _EDGE_AFTER
)
"""A mainland mobile number (11 digits, 13x–19x, maybe written 3-4-4), with or without +86."""


def mask_free_text(text: str) -> str:
    """``text`` with card, ID and mobile numbers masked; everything else as it was."""
    return _MOBILE.sub(_mask_mobile, _LONG_NUMBER.sub(_mask_long, text))


def _mask_long(found: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", found.group())
    return mask_id_number(digits.upper())


def _mask_mobile(found: re.Match[str]) -> str:
    number = re.sub(r"[ -]", "", found["number"])
    return f"{found['prefix'] or ''}{number[:3]}****{number[-4:]}"
