"""The web chat's ``Channel``: a push is stored in the recipient's web mailbox.

The dispatcher calls ``send`` (and ``update`` for a card whose buttons are spent) from the worker
thread; the row it writes is what the recipient's open pages pick up on their event stream, in
whichever web process serves them. The address is the employee number.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.web.render import bot_payload
from core.chat import Address, OutgoingMessage, Platform
from core.domain.errors import NotFound
from core.ports import DeliveryFailed
from core.services import webchat
from core.services.context import Context


class WebChannel:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        return self._store(address, message, None)

    def update(self, address: Address, message_id: str, message: OutgoingMessage) -> str | None:
        """Store the update as a new row that replaces ``message_id``'s bubble on the page."""
        return self._store(address, message, int(message_id) if message_id.isdigit() else None)

    def _store(self, address: Address, message: OutgoingMessage, replaces: int | None) -> str:
        if address.platform is not Platform.WEB:
            raise DeliveryFailed(f"not a web chat address: {address.platform}", permanent=True)
        payload = bot_payload(message, "push", self._finder(address.target, message))
        try:
            return str(webchat.post_to_number(self.ctx, address.target, payload, replaces))
        except NotFound:
            raise DeliveryFailed(f"no employee {address.target}", permanent=True) from None

    def _finder(self, employee_no: str, message: OutgoingMessage) -> Callable[[bytes], int | None]:
        # Files in a push are rare (notices carry none today); look the owner up only then.
        person = webchat.person(self.ctx, employee_no) if message.files else None

        def find(content: bytes) -> int | None:
            return webchat.document_for(self.ctx, person.employee_id, content) if person else None

        return find
