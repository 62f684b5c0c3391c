"""The chat page: one HTML file shipped in the package, its assets under ``static/``.

Asset URLs carry a hash of their content, so a browser never runs yesterday's script against
today's API, and the page itself is never cached.
"""

from __future__ import annotations

import hashlib
import html
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"


@cache
def page() -> str:
    template = (HERE / "chat.html").read_text(encoding="utf-8")
    digest = hashlib.sha256()
    for asset in sorted(STATIC_DIR.iterdir()):
        digest.update(asset.read_bytes())
    return template.replace("{{version}}", digest.hexdigest()[:12])


def forbidden_page(reason: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>hrbot</title>"
        '<link rel="stylesheet" href="/chat/static/chat.css"></head>'
        f'<body class="forbidden"><main><h1>403</h1><p>{html.escape(reason)}</p></main></body>'
        "</html>"
    )
