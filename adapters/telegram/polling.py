"""``HRBOT_TELEGRAM_MODE=polling``: ``getUpdates`` for a bot without a public URL.

Updates go through the same intake as the webhook's (inbox de-duplication, the same queue), so
both modes behave alike. The webhook is removed first: Telegram refuses ``getUpdates`` while one
is set.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import Conflict, InvalidToken

from adapters.telegram.config import ALLOWED_UPDATES, TelegramConfig
from adapters.telegram.intake import Intake

log = logging.getLogger("hrbot.telegram")
BACKOFF_START, BACKOFF_CAP = 1.0, 60.0


class Poller:
    def __init__(self, intake: Intake, config: TelegramConfig) -> None:
        self.intake = intake
        self.config = config
        self.offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled; Telegram or network trouble is waited out with backoff."""
        webhook_removed, delay = False, BACKOFF_START
        while True:
            try:
                if not webhook_removed:
                    await self.intake.application.bot.delete_webhook(drop_pending_updates=False)
                    webhook_removed = True
                await self.poll_once()
                delay = BACKOFF_START
            except InvalidToken:
                log.error("telegram polling stopped: the bot token was refused")
                raise
            except Exception as error:  # Telegram, the network or the database: wait, go on
                # Conflict: a webhook was set meanwhile; remove it again before the next poll.
                webhook_removed = webhook_removed and not isinstance(error, Conflict)
                log.warning("telegram polling failed (%s); retrying in %.0f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_CAP)

    async def poll_once(self) -> int:
        """One ``getUpdates``; returns how many updates were new."""
        updates = await self.intake.application.bot.get_updates(
            offset=self.offset,
            timeout=self.config.poll_timeout,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        fresh = 0
        for update in updates:
            fresh += int(await self.intake.accept_update(update))
            # The offset confirms what the inbox holds; the inbox, not the offset, decides what
            # is new (ids can start again lower), and a failed record is fetched again.
            self.offset = update.update_id + 1
        return fresh
