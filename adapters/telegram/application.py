"""The python-telegram-bot ``Application``, built for life inside hrbot's own ASGI app.

``.updater(None)``: updates arrive through our webhook endpoint or our polling loop, both of
which de-duplicate them in the inbox first, and are put on the application's queue. The Bot API
base URLs come from settings, so tests point them at a local fake.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from adapters.telegram.config import TelegramConfig
from adapters.telegram.handlers import UpdateHandlers

# Read generously: a long poll waits ``poll_timeout`` on Telegram's side before answering.
_TIMEOUTS = {"connect_timeout": 10.0, "read_timeout": 15.0, "write_timeout": 30.0}

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(config: TelegramConfig, handlers: UpdateHandlers) -> TelegramApplication:
    builder = (
        Application.builder()
        .token(config.token)
        .base_url(config.api_url)
        .base_file_url(config.file_url)
        .updater(None)
        .concurrent_updates(config.concurrent_updates)
        .connect_timeout(_TIMEOUTS["connect_timeout"])
        .read_timeout(_TIMEOUTS["read_timeout"])
        .write_timeout(_TIMEOUTS["write_timeout"])
        .get_updates_read_timeout(_TIMEOUTS["read_timeout"])
    )
    application: TelegramApplication = builder.build()
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CallbackQueryHandler(handlers.on_callback))
    # Personal data is only ever shown in a one-to-one chat with the bot, never in a group.
    application.add_handler(MessageHandler(private, handlers.on_message))
    application.add_error_handler(handlers.on_error)
    return application
