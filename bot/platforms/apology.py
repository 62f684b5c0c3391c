"""The answer to a turn that failed on our side (a dead letter): the person is told, in their
language, that their message may not have gone through, instead of waiting for a reply that
will never come. It writes nothing (the sender may be a stranger) and never raises: the failure
may be the database's, so the language falls back to the platform's hint, then the default.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.i18n import Translator, normalize_locale
from core.chat import OutgoingMessage
from core.services import chats

if TYPE_CHECKING:
    from bot.bootstrap import Services

log = logging.getLogger("hrbot.chat")

KEY = "chat.failed"


def apology(
    services: Services, platform: str, user_id: str, locale_hint: str | None = None
) -> list[OutgoingMessage]:
    settings = services.settings
    chosen: str | None = None
    try:
        chosen = chats.chosen_locale(services.ctx, platform, user_id)
    except Exception as error:  # the apology must not fail with the turn it follows
        log.warning("language of %s %s not read: %s", platform, user_id, type(error).__name__)
    locale = normalize_locale(chosen or locale_hint, settings.default_locale)
    t = Translator(locale, settings.zone)
    return [OutgoingMessage(text=t(KEY), key=KEY, locale=t.locale)]
