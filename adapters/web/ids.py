"""Row ids that arrive in addresses and query strings, checked before any query.

Ids are 32-bit columns on both databases: a number outside 1 … 2³¹−1 names no row, and sent to
PostgreSQL it is an error (500) rather than "not found" (schemathesis found that on the API; the
HTML pages and the web chat's event stream take the same check).
"""

from __future__ import annotations

MAX_ROW_ID = 2_147_483_647
MAX_PAGE = 100_000
"""Far past any real list (50 rows a page); bounds the OFFSET a typed page number asks for."""


def names_a_row(value: int) -> bool:
    """Whether ``value`` could be a row's id at all."""
    return 1 <= value <= MAX_ROW_ID


def page_number(value: int) -> int:
    """A typed page number brought within 1 … ``MAX_PAGE``."""
    return min(max(value, 1), MAX_PAGE)


def cursor(value: int) -> int:
    """A "messages after id N" cursor brought within 0 … ``MAX_ROW_ID``."""
    return min(max(value, 0), MAX_ROW_ID)
