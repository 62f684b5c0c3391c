"""Telegram: translators, listeners, the webhook intake, polling, file download, pushes.

The bot wires it: ``bot.platforms.telegram`` builds a ``TelegramConfig`` and ``TelegramPorts``
from settings and the conversation; this package never imports ``bot``.
"""
