"""Level 1, one cell at a time: text, codes, dates, months, amounts and choices from what a
spreadsheet holds.

A parser takes a non-blank cell and returns its value, or raises ``FieldError`` with a stable
reason code. Parsers are lenient only where no ambiguity can arise: full-width digits, year-first
dates with ``/`` or ``年月日``, thousands separators and a ``¥`` in amounts, and the binary noise
of spreadsheet floats (``2600.0000000000005``) in amounts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from core.domain.errors import InvalidValue
from core.domain.periods import Period
from core.imports.sources import Cell

Parser = Callable[[Cell], Any]

CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal(10) ** 12  # a trillion yuan: any more is a slipped key, not a salary
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0?0:00(?::00)?)?$"
)
_PERIOD = re.compile(r"^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))$")
_AMOUNT = re.compile(r"^[+-]?\d+(?:\.(\d*))?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,30}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


class FieldError(Exception):
    """A cell that cannot become a value; ``code`` names why (stable, translated outside)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def as_text(cell: Cell) -> str:
    """The cell as text; numbers a workbook holds come back without a spurious ``.0``."""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool | date | time):
        raise FieldError("expected_text")
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return str(cell)


def _plain(cell: Cell) -> str:
    """Text with full-width digits and letters folded to ASCII (IME input often has them)."""
    text = as_text(cell)
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def text(max_length: int) -> Parser:
    def parse(cell: Cell) -> str:
        value = as_text(cell)
        if len(value) > max_length:
            raise FieldError("too_long", max=max_length)
        return value

    return parse


def identifier(max_length: int) -> Parser:
    """Employee numbers and branch codes: what ``hrbot status`` and the chat can look up."""

    def parse(cell: Cell) -> str:
        value = _plain(cell)
        if len(value) > max_length:
            raise FieldError("too_long", max=max_length)
        if not _IDENTIFIER.match(value):
            raise FieldError("bad_identifier")
        return value

    return parse


def email(cell: Cell) -> str:
    value = _plain(cell)
    if len(value) > 254 or not _EMAIL.match(value):
        raise FieldError("bad_email")
    return value


def phone(cell: Cell) -> str:
    value = _plain(cell)
    if not _PHONE.match(value):
        raise FieldError("bad_phone")
    return value


def id_number(cell: Cell) -> str:
    """The shape only (17 digits and a digit or X); the check digit is a level 2 check."""
    if isinstance(cell, float):
        # A spreadsheet keeps 15 significant digits of a number: an ID number typed into a
        # number cell has already lost its last digits, and must be re-entered as text.
        raise FieldError("id_number_as_number")
    value = _plain(cell).upper().replace(" ", "")
    if not _ID_NUMBER.match(value):
        raise FieldError("bad_id_number")
    return value


def day(cell: Cell) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    return _day(_plain(cell))


@lru_cache(maxsize=8192)  # a file holds few distinct dates, read over and over
def _day(value: str) -> date:
    match = _DATE.match(value)
    if not match:
        raise FieldError("bad_date")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise FieldError("bad_date") from None


def month(cell: Cell) -> Period:
    if isinstance(cell, date):
        # A workbook turns "2026-09" typed into a cell into the date 2026-09-01.
        if cell.day != 1:
            raise FieldError("bad_period")
        return Period(cell.year, cell.month)
    return _month(_plain(cell))


@lru_cache(maxsize=4096)
def _month(value: str) -> Period:
    match = _PERIOD.match(value)
    if not match:
        raise FieldError("bad_period")
    try:
        return Period(int(match.group(1)), int(match.group(2) or match.group(3)))
    except InvalidValue:
        raise FieldError("bad_period") from None


def money(cell: Cell) -> Decimal:
    """Yuan with at most two decimals (a third is refused, never rounded)."""
    if type(cell) is str:
        amount = _from_text(cell.strip() if cell.isascii() else _plain(cell))
    elif isinstance(cell, bool) or not isinstance(cell, int | float):
        raise FieldError("bad_amount")
    elif isinstance(cell, int):
        amount = Decimal(cell)
    else:
        amount = _from_float(cell)
    if abs(amount) >= _MAX_AMOUNT:
        raise FieldError("bad_amount")
    return amount.quantize(CENT)


def _from_float(value: float) -> Decimal:
    # A workbook stores binary floats: 2650.5 is exact, but a formula like =B2*0.26 gives
    # 2600.0000000000005. Within a millionth of a fen it is the amount the sheet shows.
    rounded = round(value, 2)
    if abs(value - rounded) > 1e-6:
        raise FieldError("too_many_decimals")
    return Decimal(f"{rounded:.2f}")


def _from_text(value: str) -> Decimal:
    if "," in value or "¥" in value or " " in value:
        value = value.lstrip("¥").replace(" ", "")
        # A comma only ever groups thousands ("12,000.50"); "12,5" is refused, not read as 125.
        if "," in value and not _GROUPED.match(value):
            raise FieldError("bad_amount")
        value = value.replace(",", "")
    match = _AMOUNT.match(value)
    if not match:
        raise FieldError("bad_amount")
    decimals = match.group(1)
    if decimals and decimals[2:].strip("0"):  # "12.500" is fine, "12.505" is not
        raise FieldError("too_many_decimals")
    return Decimal(value)


def choice(values: Mapping[str, Any]) -> Parser:
    """One of ``values`` (keys already folded by ``fold``); the error lists the canonical ones."""
    allowed = ", ".join(sorted({str(v) for v in values.values()}))

    def parse(cell: Cell) -> Any:
        found = values.get(fold(as_text(cell)))
        if found is None:
            raise FieldError("unknown_choice", allowed=allowed)
        return found

    return parse


def fold(value: str) -> str:
    """Case, width and separators folded: ``HR Manager``, ``hr-manager`` → ``hr_manager``."""
    folded = unicodedata.normalize("NFKC", value).strip().casefold()
    return re.sub(r"[\s\-]+", "_", folded)
