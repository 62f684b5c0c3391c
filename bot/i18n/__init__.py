"""Message catalogs (zh-CN and en) and the renderer that turns notification keys into text.

Catalogs are gettext ``.po`` files under ``locale/`` read with Babel; each ``msgid`` is a message
key the code uses, each ``msgstr`` its text with ``{placeholders}``. A test checks both languages
hold the same keys and placeholders, so a missing translation fails the build, not a user's
screen. Dates and amounts are formatted per locale by Babel.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
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


def _amount(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _budget_part(p: Mapping[str, Any]) -> str | None:
    if "budget" not in p:
        return None
    if p["budget"] is None:
        return "part.no_budget"
    over = _amount(p.get("over_budget")) or Decimal(0)
    return "part.over_budget" if over > 0 else "part.within_budget"


def _when(key: str, gate: Callable[[Mapping[str, Any]], object]) -> Callable[..., str | None]:
    return lambda p: key if gate(p) else None


# Optional sentences: a ``{name_part}`` placeholder renders the catalog key chosen here, or
# nothing, so each catalog keeps whole sentences in its own word order while a warning only
# shows when there is something to warn about (a count above zero, a budget that is set).
PARTS: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "previous_part": _when("part.previous", lambda p: p.get("previous_total") is not None),
    "outside_part": _when("part.outside", lambda p: p.get("outside_count")),
    "no_id_part": _when("part.no_id", lambda p: p.get("no_id_count")),
    "budget_part": _budget_part,
    "confirm_part": _when("part.confirm", lambda p: p.get("confirm")),
    "differs_part": _when("part.differs", lambda p: p.get("differences")),
    "overdue_part": _when("part.approval_overdue", lambda p: p.get("overdue")),
    # A chat answer that reached the person late, through the outbox (core/services/replies.py)
    "buttons_part": _when("part.reply_buttons", lambda p: p.get("had_buttons")),
    "files_part": _when("part.reply_files", lambda p: p.get("had_files")),
    # A notice that carries the "mark paid" button is manual settlement; without it hrbot pays.
    "settle_part": lambda p: (
        "part.settle_manual" if "batch.paid" in p.get("_actions", ()) else "part.settle_gateway"
    ),
}


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
        if name in PARTS:
            part = PARTS[name](params)
            return self(part, **params) if part else ""
        if name in ("cause", "suspected_cause"):
            return self.word("cause", value or "unknown")
        if name == "claim_type":
            return self.word("claim_type", value)
        if name == "status":
            return self.word("status", value)
        if name in ("state", "batch_state"):
            return self.word("batch_state", value)
        if name in ("deadline", "at", "since"):
            return self.when(value)
        if name == "decision":
            return self.word("decision", value)
        if name == "top_causes":  # "财务审批未完成（3 条）、银行扣款失败（1 条）"
            counted = zip(
                params.get("causes") or [], params.get("cause_counts") or [], strict=False
            )
            shown = [self("list.counted", item=self.word("cause", c), count=n) for c, n in counted]
            return self._catalog["list.separator"].join(shown) or "—"
        if name == "step_word":
            return self.word("approval.step", params.get("step"))
        if name == "deadline_hours":
            deadline, created = params.get("deadline"), params.get("_created_at")
            if deadline is None or created is None:
                return "—"
            hours = (datetime.fromisoformat(deadline) - created).total_seconds() / 3600
            return f"{max(hours, 0):.0f}"
        if name == "change":
            change = _amount(value)
            return "—" if change is None else (f"+{change}" if change > 0 else str(change))
        if name == "budget_left":
            over = _amount(params.get("over_budget"))
            return "—" if over is None else str(-over)
        if isinstance(value, list):
            return self._names(name, value, params)
        return "—" if value is None or value == "" else str(value)

    def _names(self, name: str, value: list[Any], params: dict[str, Any]) -> str:
        """A short list; ``outside_names`` with ``outside_count`` 8 ends "… and 3 more"."""
        shown = self._catalog["list.separator"].join(str(v) for v in value)
        count = params.get(name.removesuffix("_names") + "_count")
        if name.endswith("_names") and isinstance(count, int) and count > len(value):
            shown += self("list.more", count=count - len(value))
        return shown


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
        params = dict(notification.params) | {
            "_created_at": notification.created_at,
            "_actions": [button["action"] for button in notification.buttons],
        }
        key = notification.key
        if notification.channel is ChannelKind.SMS and f"sms.{key}" in catalog(t.locale):
            key = f"sms.{key}"  # the short form: an SMS carries only what it must
        text = t(key, **params)
        if params.get("on_behalf_of"):  # a stand-in reads for whom they act (delegation)
            text += "\n" + t("delegation.on_behalf", **params)
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
