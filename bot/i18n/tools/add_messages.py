"""Add or update messages in both catalogs: ``python -m bot.i18n.tools.add_messages FILE.py``,
where FILE.py defines the dicts ``ZH`` and ``EN`` (message key → text)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALES = {"zh_CN": "ZH", "en": "EN"}
ROOT = Path(__file__).resolve().parents[1] / "locale"


def update(locale: str, messages: dict[str, str]) -> None:
    path = ROOT / locale / "LC_MESSAGES" / "hrbot.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    for key, text in messages.items():
        existing = catalog.get(key)
        if existing is not None:  # Babel's ``add`` keeps an existing message's old text
            existing.string = text
        else:
            catalog.add(key, text)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=False)


def main() -> None:
    source = runpy.run_path(sys.argv[1])
    for locale, name in LOCALES.items():
        update(locale, source[name])


if __name__ == "__main__":
    main()
