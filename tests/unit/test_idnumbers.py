"""Resident ID numbers: the GB 11643 check digit, the birth date, and masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import InvalidValue
from core.domain.idnumbers import (
    birth_date,
    check_digit,
    make_id_number,
    mask_id_number,
    validate_id_number,
)

# The worked example of GB 11643-1999: check digit X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standard_example_has_check_digit_x() -> None:
    assert check_digit(STANDARD_EXAMPLE[:17]) == "X"
    assert validate_id_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert birth_date(STANDARD_EXAMPLE) == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("given_text", "normalised"),
    [
        pytest.param("11010519491231002x", STANDARD_EXAMPLE, id="lower-case-x"),
        pytest.param("  11010519491231002X\n", STANDARD_EXAMPLE, id="surrounding-space"),
        pytest.param("440524188001010014", "440524188001010014", id="digit-check"),
    ],
)
def test_valid_numbers_are_normalised(given_text: str, normalised: str) -> None:
    assert validate_id_number(given_text) == normalised


@pytest.mark.parametrize(
    ("text", "why"),
    [
        pytest.param("110105194912310021", "check digit", id="wrong-check-digit"),
        pytest.param("11010519491231002", "17 digits", id="too-short"),
        pytest.param("11010519491231002X1", "17 digits", id="too-long"),
        pytest.param("1101051949123100AX", "17 digits", id="letter-inside"),
        pytest.param("11010519491231002Y", "17 digits", id="bad-last-character"),
        pytest.param("110105194902300021", "birth date", id="february-30"),
        pytest.param("110105194913010021", "birth date", id="month-13"),
        pytest.param("", "17 digits", id="empty"),
    ],
)
def test_invalid_numbers_are_refused_without_repeating_them(text: str, why: str) -> None:
    with pytest.raises(InvalidValue, match=why) as raised:
        validate_id_number(text)
    assert raised.value.params == {"field": "id_number"}
    if text:
        assert text[:10] not in str(raised.value)


def test_masking_shows_only_the_first_and_last_four() -> None:
    assert mask_id_number("110101199003071234") == "1101**********1234"
    assert mask_id_number(STANDARD_EXAMPLE) == "1101**********002X"


@pytest.mark.parametrize(
    ("value", "masked"),
    [(None, ""), ("", ""), ("1234", "****"), ("12345678", "********"), ("123456789", "1234*6789")],
)
def test_masking_short_or_missing_values_never_reveals_them(value: str | None, masked: str) -> None:
    assert mask_id_number(value) == masked


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_made_numbers_validate_and_any_other_check_digit_does_not(
    born: date, sequence: int
) -> None:
    number = make_id_number("310115", born, sequence)
    assert validate_id_number(number) == number
    assert birth_date(number) == born
    masked = mask_id_number(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert set(masked[4:-4]) == {"*"}
    for other in "0123456789X":
        if other != number[-1]:
            with pytest.raises(InvalidValue):
                validate_id_number(number[:17] + other)
