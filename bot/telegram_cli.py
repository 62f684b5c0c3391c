"""``hrbot telegram …``: register the webhook with Telegram (``hrbot serve`` never does it).

Registered in ``bot/cli.py`` with ``app.add_typer(telegram_app, name="telegram")``. Imports of
the adapter wait inside the commands, so ``hrbot --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import typer

telegram_app = typer.Typer(
    help="Telegram: register the webhook, see what Telegram knows of it.", no_args_is_help=True
)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def webhook_url(given: str) -> str:
    """``https://hr.example.com`` → ``https://hr.example.com/telegram/webhook``; a full URL is
    kept. Telegram only posts to HTTPS."""
    from adapters.telegram.config import WEBHOOK_PATH

    parts = urlsplit(given.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"not an https:// URL: {given!r} (Telegram only posts to HTTPS)")
    path = parts.path if parts.path not in ("", "/") else WEBHOOK_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _api(require_secret: bool) -> Any:
    from adapters.telegram.api import BotApi
    from adapters.telegram.config import TelegramConfigError
    from bot.platforms.telegram import telegram_config
    from bot.settings import Settings

    config = telegram_config(Settings())
    if not config.token:
        _fail("HRBOT_TELEGRAM_BOT_TOKEN is not set")
    if require_secret:
        try:
            replace(config, mode="webhook").check()
        except TelegramConfigError as error:
            _fail(str(error))
    return BotApi(config)


@telegram_app.command("set-webhook")
def set_webhook(
    url: Annotated[str, typer.Argument(help="Public https URL of this server (or of the hook).")],
    drop_pending: Annotated[
        bool, typer.Option("--drop-pending", help="Discard updates Telegram still holds.")
    ] = False,
) -> None:
    """Register the webhook with the secret and the update types hrbot handles."""
    from adapters.telegram.api import BotApiError
    from adapters.telegram.config import ALLOWED_UPDATES

    try:
        target = webhook_url(url)
    except ValueError as error:
        _fail(str(error), code=2)
    api = _api(require_secret=True)
    params = {
        "url": target,
        "secret_token": api.config.webhook_secret,
        "allowed_updates": list(ALLOWED_UPDATES),
        "drop_pending_updates": drop_pending,
    }
    try:
        api.call("setWebhook", params)
    except BotApiError as error:
        _fail(f"Telegram refused the webhook: {error.description}")
    finally:
        api.close()
    typer.echo(f"webhook set: {target} (updates: {', '.join(ALLOWED_UPDATES)})")


@telegram_app.command("webhook-info")
def webhook_info() -> None:
    """What Telegram knows of the webhook: URL, pending updates, last error."""
    from adapters.telegram.api import BotApiError

    api = _api(require_secret=False)
    try:
        info = api.call("getWebhookInfo", {})
    except BotApiError as error:
        _fail(f"Telegram: {error.description}")
    finally:
        api.close()
    typer.echo(f"url: {info.get('url') or '(none: polling or not set)'}")
    typer.echo(f"pending updates: {info.get('pending_update_count', 0)}")
    if info.get("last_error_message"):
        typer.echo(f"last error: {info['last_error_message']}")
