"""Outgoing messages as Block Kit: sections of text, a row of buttons, confirm dialogs.

Pure functions. Button ``value`` is the message's opaque token (never an id a client could edit)
and ``action_id`` the action's name; ``block_id`` carries the message key, so tests (and anyone
reading a conversation's payloads) can tell which message a block came from whatever language
it is in. Slack's limits are applied here, so a long text is split, never refused.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.translate import DUPLICATE_MARK
from core.chat import OutgoingButton, OutgoingMessage

Block = dict[str, Any]

SECTION_LIMIT = 3000  # characters of text in one section block
FALLBACK_LIMIT = 4000  # the notification text; Slack truncates what is longer anyway
MAX_BLOCKS = 50
BUTTONS_PER_ROW = 25
LABEL_LIMIT = 75

CONFIRMED_ACTIONS = frozenset(
    {
        "claim.approve",
        "claim.reject",
        "claim.return",
        "claim.pay",
        "batch.verify",
        "batch.approve",
        "batch.return",
        "batch.paid",
    }
)
"""Decisions that move money or a claim: Slack asks "are you sure?" before sending the click."""

# The dialog's frame is all the adapter words itself; the question comes from the button.
_CONFIRM_FRAME = {
    "zh-CN": ("请确认", "确定要「{label}」吗？此操作无法撤回。", "确定", "再想想"),
    "en": ("Please confirm", "Really {label}? This cannot be undone.", "Yes", "Not now"),
}


def message_blocks(message: OutgoingMessage) -> list[Block]:
    """Sections for the text, then rows of buttons; at most Slack's 50 blocks."""
    blocks: list[Block] = [_section(chunk) for chunk in _chunks(escape(message.text))]
    if message.files:  # the text travels with the upload; say what to expect meanwhile
        names = ", ".join(escape(f.filename) for f in message.files)
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"📎 {names}"[:2000]}]}
        )
    buttons = list(message.buttons)
    for start in range(0, len(buttons), BUTTONS_PER_ROW):
        row = buttons[start : start + BUTTONS_PER_ROW]
        blocks.append({"type": "actions", "elements": _buttons(row, message.locale)})
    blocks = blocks[:MAX_BLOCKS]
    if message.key:
        for index, block in enumerate(blocks):
            block["block_id"] = f"{message.key}#{index}"[:255]
    return blocks


def fallback_text(message: OutgoingMessage) -> str:
    """The plain ``text`` Slack shows in notifications and screen readers."""
    return message.text[:FALLBACK_LIMIT] or " "


def escape(text: str) -> str:
    """Slack's three control characters, so a name or a question cannot ping ``<!channel>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def button(item: OutgoingButton, action_id: str, locale: str | None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": item.label[:LABEL_LIMIT] or "…", "emoji": True},
        "action_id": action_id,
        "value": item.token,
    }
    if item.style in ("primary", "danger"):
        element["style"] = item.style
    if item.confirm or item.action in CONFIRMED_ACTIONS:
        element["confirm"] = confirm_dialog(item, locale)
    return element


def confirm_dialog(item: OutgoingButton, locale: str | None) -> Block:
    title, question, yes, no = _CONFIRM_FRAME.get(locale or "", _CONFIRM_FRAME["zh-CN"])
    text = item.confirm or question.format(label=item.label)
    dialog: Block = {
        "title": {"type": "plain_text", "text": title[:100]},
        "text": {"type": "plain_text", "text": text[:300]},
        "confirm": {"type": "plain_text", "text": yes[:30]},
        "deny": {"type": "plain_text", "text": no[:30]},
    }
    if item.style == "danger":
        dialog["style"] = "danger"
    return dialog


def _buttons(row: list[OutgoingButton], locale: str | None) -> list[Block]:
    seen: dict[str, int] = {}
    elements = []
    for item in row:
        seen[item.action] = seen.get(item.action, 0) + 1
        count = seen[item.action]
        action_id = item.action if count == 1 else f"{item.action}{DUPLICATE_MARK}{count}"
        elements.append(button(item, action_id, locale))
    return elements


def _section(text: str) -> Block:
    # verbatim: Slack must not turn words into links or mentions behind our back.
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _chunks(text: str) -> list[str]:
    """Split at line ends where possible, so no section exceeds Slack's 3,000 characters."""
    if not text.strip():
        return []
    chunks: list[str] = []
    rest = text
    while len(rest) > SECTION_LIMIT:
        cut = rest.rfind("\n", 0, SECTION_LIMIT)
        if cut <= 0:  # no line end: cut hard, but never inside an escape such as ``&amp;``
            amp = rest.rfind("&", SECTION_LIMIT - 4, SECTION_LIMIT)
            cut = amp if amp > 0 else SECTION_LIMIT
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    chunks.append(rest)
    return chunks
