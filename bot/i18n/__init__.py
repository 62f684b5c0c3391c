"""Message catalogs (zh-CN and en) and the renderer that turns notification keys into text.

Catalogs are gettext ``.po`` files under ``locale/`` read with Babel; each ``msgid`` is a message
key the code uses, each ``msgstr`` its text with ``{placeholders}``. A test checks both languages
hold the same keys and placeholders, so a missing translation fails the build, not a user's
screen. Dates and amounts are formatted per locale by Babel.
"""

from __future__ import annotations

import string
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

from core.chat import OutgoingButton, OutgoingMessage
from core.domain.directory import Employee
from core.domain.notifications import ChannelKind, Notification
from core.services.buttons import button_token

LOCALES = ("zh-CN", "en")
_DIR = Path(__file__).parent


def catalog(locale: str) -> dict[str, str]:
    return _load(locale if locale in LOCALES else "zh-CN")


@cache
def _load(locale: str) -> dict[str, str]:
    path = _DIR / "locale" / locale.replace("-", "_") / "LC_MESSAGES" / "hrbot.po"
    with path.open("rb") as handle:
        po = read_po(handle, locale=locale.replace("-", "_"))
    return {str(m.id): str(m.string) for m in po if m.id and m.string}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def normalize_locale(value: str | None, default: str = "zh-CN") -> str:
    if not value:
        return default
    lowered = value.lower()
    if lowered.startswith("zh"):
        return "zh-CN"
    if lowered.startswith("en"):
        return "en"
    return default


class Translator:
    """``t(key, **params)`` in one locale, with dates shown in the configured time zone."""

    def __init__(self, locale: str, tz: ZoneInfo) -> None:
        self.locale = normalize_locale(locale)
        self.tz = tz
        self._catalog = catalog(self.locale)

    def __call__(self, key: str, **params: Any) -> str:
        template = self._catalog.get(key)
        if template is None:
            return key
        values = {
            name: self._value(name, params.get(name), params) for name in placeholders(template)
        }
        return template.format_map(values)

    def word(self, prefix: str, code: str | None) -> str:
        return self._catalog.get(f"{prefix}.{code}", code or "—")

    def when(self, iso: str | datetime | None) -> str:
        if iso is None:
            return "—"
        instant = datetime.fromisoformat(iso) if isinstance(iso, str) else iso
        return instant.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def _value(self, name: str, value: Any, params: dict[str, Any]) -> str:
        if name in ("cause", "suspected_cause"):
            return self.word("cause", value or "unknown")
        if name == "claim_type":
            return self.word("claim_type", value)
        if name == "status":
            return self.word("status", value)
        if name in ("state", "batch_state"):
            return self.word("batch_state", value)
        if name in ("deadline", "at"):
            return self.when(value)
        if name == "decision":
            return self.word("decision", value)
        if name == "deadline_hours":
            deadline, created = params.get("deadline"), params.get("_created_at")
            if deadline is None or created is None:
                return "—"
            hours = (datetime.fromisoformat(deadline) - created).total_seconds() / 3600
            return f"{max(hours, 0):.0f}"
        if isinstance(value, list):
            return self._catalog["list.separator"].join(str(v) for v in value)
        return "—" if value is None or value == "" else str(value)


class CatalogRenderer:
    """The ``Renderer`` port: each recipient reads notices in their own language."""

    def __init__(self, default_locale: str, tz: ZoneInfo, force_locale: str | None = None) -> None:
        self.default_locale = default_locale
        self.tz = tz
        self.force_locale = force_locale

    def translator_for(self, recipient: Employee) -> Translator:
        locale = self.force_locale or (recipient.locale and str(recipient.locale))
        return Translator(normalize_locale(locale, self.default_locale), self.tz)

    def translator_for_locale(self, locale: str | None = None) -> Translator:
        return Translator(
            normalize_locale(locale or self.force_locale, self.default_locale), self.tz
        )

    def render(self, notification: Notification, recipient: Employee) -> OutgoingMessage:
        t = self.translator_for(recipient)
        params = dict(notification.params) | {"_created_at": notification.created_at}
        key = notification.key
        if notification.channel is ChannelKind.SMS and f"sms.{key}" in catalog(t.locale):
            key = f"sms.{key}"  # the short form: an SMS carries only what it must
        text = t(key, **params)
        buttons = tuple(
            OutgoingButton(
                label=t(button["label_key"]),
                action=button["action"],
                token=button_token(notification.id, index),
                style=button.get("style", "default"),
            )
            for index, button in enumerate(notification.buttons)
        )
        return OutgoingMessage(
            text=text,
            buttons=buttons,
            key=notification.key,
            subject=text.split("。")[0].split(". ")[0][:120],
            params=dict(notification.params),
            locale=t.locale,
        )
