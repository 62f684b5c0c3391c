"""Files from Telegram, within limits: the size Telegram states is checked before ``getFile``.

A file over ``HRBOT_MAX_UPLOAD_MB`` or Telegram's 20 MB bot download limit is never asked for;
one Telegram calls too big anyway, or that turns out larger once downloaded, is refused the same
way. What comes through is held in memory and judged by the shared upload rules in the core.
"""

from __future__ import annotations

from dataclasses import replace

from telegram import Bot
from telegram.error import BadRequest

from core.chat import Attachment
from core.domain.documents import size_allowed

DOWNLOAD_TIMEOUT = 60.0
"""Seconds to read up to 20 MB: much longer than an API call needs."""


async def fetch(bot: Bot, attachment: Attachment, limit: int) -> Attachment | None:
    """The attachment with its bytes, or None when it is too large to take."""
    if not size_allowed(attachment.size, limit):
        return None
    try:
        file = await bot.get_file(attachment.ref)
    except BadRequest as error:
        if "file is too big" in str(error).lower():
            return None
        raise
    if not size_allowed(file.file_size, limit):
        return None
    data = await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT)
    if len(data) > limit:
        return None
    return replace(attachment, size=len(data), content=bytes(data))
