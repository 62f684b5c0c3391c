"""Slack: direct messages, file uploads and approval buttons, through slack-bolt's ``AsyncApp``.

- ``translate`` / ``blocks``: pure functions, Slack payloads to ``core.chat`` and back.
- ``app``: the factory that builds the ``AsyncApp`` (never at import time) and its guard.
- ``work``: what listeners do after the ack; ``files``: downloads within the upload limit.
- ``channel``: ``SlackChannel``, the outbox's way to push (sync ``WebClient``).

The bot reaches this package only through ``SlackConfig`` and ``SlackHandlers``.
"""

from adapters.slack.config import SlackConfig, SlackHandlers

__all__ = ["SlackConfig", "SlackHandlers"]
