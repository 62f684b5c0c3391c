"""Mainland resident ID numbers (GB 11643-1999): check digit, birth date, and masking.

An ID number is sensitive personal information: hrbot stores it, checks it, and only ever shows
the masked form (first four and last four characters).
"""

from __future__ import annotations

from datetime import date

from core.domain.errors import InvalidValue

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate_id_number(value: str) -> str:
    """The normalised ID number (upper-case X), or ``InvalidValue`` naming what is wrong.

    The message never repeats the number itself, so it can be logged and shown safely.
    """
    text = value.strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise InvalidValue("ID number must be 17 digits and a digit or X", field="id_number")
    try:
        birth_date(text)
    except ValueError:
        raise InvalidValue("ID number holds no valid birth date", field="id_number") from None
    if check_digit(text[:17]) != text[17]:
        raise InvalidValue("ID number check digit does not match", field="id_number")
    return text


def birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def mask_id_number(value: str | None) -> str:
    """``1101**********1234``: enough to recognise one's own number, not enough to use it."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A valid ID number for demo data and tests (region 6 digits, sequence 0-999)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)
