"""``POST /telegram/webhook``: check the secret, record the update once, queue it, answer 200.

The secret is compared in constant time; anything but an exact match is 403 and nothing is
written. De-duplication is by ``update_id`` *membership* in the inbox, never "greater than the
last one seen": Telegram's ids can start again lower. An update the inbox cannot record (the
database is away) is answered 503, so Telegram delivers it again. The work happens after the
answer.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from adapters.telegram.config import SECRET_HEADER
from adapters.telegram.intake import Intake

log = logging.getLogger("hrbot.telegram")
MAX_BODY = 1024 * 1024
"""An update is a few kilobytes; anything near a megabyte is not from Telegram."""


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of the header and the secret; no secret configured matches nothing."""
    if not given or not expected:
        return False
    # Starlette decodes headers as latin-1: encoding back gives the exact bytes that were sent.
    return hmac.compare_digest(given.encode("latin-1"), expected.encode("latin-1"))


def webhook_endpoint(
    intake: Intake, secret: str | None
) -> Callable[[Request], Awaitable[Response]]:
    async def telegram_webhook(request: Request) -> Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            return Response(status_code=403)
        if not intake.ready:  # starting or stopping: Telegram retries, nothing is lost
            return Response(status_code=503)
        async with intake.request():
            body = await request.body()
            if len(body) > MAX_BODY:
                return Response(status_code=413)
            try:
                payload = json.loads(body)
                if not isinstance(payload, dict):
                    raise ValueError("not an object")
                await intake.accept(payload)
            except ValueError:  # JSON errors too: a malformed request, not a poison update
                return Response(status_code=400)
            except Exception as error:  # not recorded (the database is away): not taken
                log.warning("telegram update not recorded (%s): answered 503", type(error).__name__)
                return Response(status_code=503)  # Telegram sends it again later
        return Response(status_code=200)

    return telegram_webhook
