"""Logging: plain lines for a terminal, or one JSON object a line (``--log-json``) for machines.

Nothing sensitive is logged: callers pass masked values, and the formatter masks anything that
still looks like an ID or mobile number.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_ID_NUMBER = re.compile(r"\b(\d{4})\d{10}(\d{3}[\dXx])\b")
_MOBILE = re.compile(r"\b(1[3-9]\d)\d{4}(\d{4})\b")


def scrub(text: str) -> str:
    return _MOBILE.sub(r"\1****\2", _ID_NUMBER.sub(r"\1**********\2", text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key in ("request_id", "actor", "event"):
            if hasattr(record, key):
                entry[key] = scrub(str(getattr(record, key)))
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info).splitlines()[-1])
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure(json_lines: bool = False, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
