"""Blind indexes: a keyed hash (HMAC) beside an encrypted column, for lookups and uniqueness.

An encrypted column holds a different ciphertext each time, so neither ``WHERE id_number = ?``
nor a unique constraint works on it. Its blind index does: the column declares it with
``info={"blind_index": "<hash column>"}`` (core/persistence/tables.py), and every engine made
by ``make_engine`` fills the hash column in whenever an INSERT or UPDATE sets the encrypted one,
through the ORM, Core executemany or ``.values()`` alike. No writer can forget it, and clearing
the value (a purge) clears its hash too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, ColumnElement, Engine, Table, event
from sqlalchemy.sql.dml import Insert, Update, ValuesBase
from sqlalchemy.sql.elements import BindParameter

from core.encryption_keys import current_keyring
from core.persistence.tables import metadata

INFO_KEY = "blind_index"


def indexed_columns(table: Table) -> dict[str, str]:
    """Encrypted column name → its hash column name, for one table."""
    return {column.name: column.info[INFO_KEY] for column in table.c if INFO_KEY in column.info}


_INDEXED: dict[Table, dict[str, str]] = {
    table: pairs for table in metadata.sorted_tables if (pairs := indexed_columns(table))
}


def install_blind_indexes(engine: Engine) -> None:
    event.listen(engine, "before_execute", _fill, retval=True)


def matches(column: Column[Any], value: str) -> ColumnElement[bool]:
    """``column = value`` for an encrypted column, asked of its blind index (under every key
    of the keyring, so rows written before a key rotation are found too)."""
    hashes = column.table.c[column.info[INFO_KEY]]
    return hashes.in_(current_keyring().blind_indexes(value))


def hash_of(value: str | None) -> str | None:
    return current_keyring().blind_index(value) if value else None


def _fill(
    conn: Any, statement: Any, multiparams: Any, params: Any, execution_options: Any
) -> tuple[Any, Any, Any]:
    if not isinstance(statement, Insert | Update):
        return statement, multiparams, params
    pairs = _INDEXED.get(statement.table)  # type: ignore[call-overload]
    if not pairs:
        return statement, multiparams, params
    statement = _fill_values(statement, pairs)
    multiparams = [_with_hashes(row, pairs) for row in multiparams]
    return statement, multiparams, _with_hashes(params, pairs) if params else params


def _with_hashes(row: Mapping[str, Any], pairs: dict[str, str]) -> Mapping[str, Any]:
    if not isinstance(row, Mapping) or not any(name in row for name in pairs):
        return row
    return dict(row) | {pairs[name]: hash_of(row[name]) for name in pairs if name in row}


def _fill_values(statement: ValuesBase, pairs: dict[str, str]) -> ValuesBase:
    """``update(...).values(id_number=x)``: the value sits in the statement, not the params."""
    inline = getattr(statement, "_values", None) or {}
    given = {getattr(key, "name", key): value for key, value in inline.items()}
    added = {}
    for name, hash_name in pairs.items():
        if name not in given:
            continue
        value = given[name]
        if not isinstance(value, BindParameter):
            raise ValueError(f"{name} can only be set to a value: its blind index follows it")
        added[hash_name] = hash_of(value.value)
    if getattr(statement, "_multi_values", None):
        raise ValueError(f"multi-row .values() on {statement.table}: pass the rows as parameters")
    return statement.values(**added) if added else statement
