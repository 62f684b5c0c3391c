"""Logging: plain lines for a terminal, or one JSON object a line (``--log-json``) for machines.

Nothing sensitive is logged: callers pass masked values, and the formatter masks anything that
still looks like an ID or mobile number. Every line carries the request id and the masked actor
when there is one (``bot/log_context.py``); the level comes from ``HRBOT_LOG_LEVEL``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from bot.log_context import ContextFilter

if TYPE_CHECKING:
    from bot.settings import Settings

_ID_NUMBER = re.compile(r"\b(\d{4})\d{10}(\d{3}[\dXx])\b")
_MOBILE = re.compile(r"\b(1[3-9]\d)\d{4}(\d{4})\b")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FIELDS = (
    "request_id",
    "actor",
    "event",
    "method",
    "path",
    "status",
    "duration_ms",
    "platform",
    "outcome",
)
"""Extra record attributes a JSON line carries when set (``logger.info(..., extra={...})``)."""


def scrub(text: str) -> str:
    return _MOBILE.sub(r"\1****\2", _ID_NUMBER.sub(r"\1**********\2", text))


def level_name(value: str) -> str:
    """``HRBOT_LOG_LEVEL``, checked: one of ``LEVELS`` in any case; ValueError otherwise."""
    name = value.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)} (not {value!r})")
    return name


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key in FIELDS:
            if hasattr(record, key):
                value = getattr(record, key)
                # Numbers stay numbers (status, duration); anything else is text, scrubbed.
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                entry[key] = value if numeric else scrub(str(value))
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info).splitlines()[-1])
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return scrub(f"{line} [{request_id}]" if request_id else line)


def configure(json_lines: bool = False, level: str = "INFO", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name(level))


def setup(json_lines: bool = False) -> Settings:
    """Logging for a long-running command, at ``HRBOT_LOG_LEVEL``; the settings it read come
    back. A bad setting raises ``ValueError`` with one line to show (nothing is configured)."""
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = "_".join(str(part) for part in first["loc"]).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValueError(f"HRBOT_{where}: {message}" if where else message) from None
    configure(json_lines=json_lines, level=settings.log_level)
    return settings
