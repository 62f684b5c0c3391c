"""What the web chat needs at run time, and the synchronous turns it runs through the bridge.

The composition root (``bot``) builds a ``WebChat`` with the core context, the conversation (any
object with ``on_message``/``on_click``) and the bridge's ``call``; this package never imports
``bot``. Each HTTP request makes one hop into the thread pool: the whole turn (store what the user
said, run the conversation, store the replies) happens there in plain synchronous code.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar

from adapters.web.render import bot_payload, user_payload
from adapters.web.signing import Signer
from adapters.web.uploads import ChatForm
from core.chat import (
    Address,
    Attachment,
    ButtonClick,
    IncomingMessage,
    OutgoingFile,
    OutgoingMessage,
    Platform,
)
from core.domain.claims import ClaimDocument
from core.services import claims, webchat
from core.services.context import Context
from core.services.webchat import Person, WebMessage

P = ParamSpec("P")
T = TypeVar("T")

COOKIE = "hrbot_chat"
COOKIE_MAX_AGE = 30 * 24 * 3600
LINK_MAX_AGE = 15 * 60
"""Download links are short-lived: a link copied out of the page stops working soon."""


class ChatHandler(Protocol):
    """The conversation, as the web chat sees it (``bot.conversation.Conversation`` fits)."""

    def on_message(
        self, message: IncomingMessage, employee_id: int | None = None
    ) -> list[OutgoingMessage]: ...

    def on_click(
        self, click: ButtonClick, employee_id: int | None = None
    ) -> list[OutgoingMessage]: ...


class CoreCall(Protocol):
    """Runs synchronous core code off the event loop (``bot.bridge.call``)."""

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T: ...


@dataclass(frozen=True)
class WebChat:
    ctx: Context
    handler: ChatHandler
    call: CoreCall
    secret_key: str
    demo_mode: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    default_locale: str = "zh-CN"
    poll_seconds: float = 1.0
    """How often an open event stream asks the database for new messages."""
    stream_seconds: float = 15.0
    """An event stream ends after this long and the browser reconnects (``Last-Event-ID``), so
    a server shutting down never waits long for open pages."""

    def cookies(self) -> Signer:
        return Signer(self.secret_key, "hrbot.web.chat.session")

    def links(self) -> Signer:
        return Signer(self.secret_key, "hrbot.web.chat.file")


def address(who: Person) -> Address:
    return Address(Platform.WEB, who.employee_no)


@dataclass(frozen=True)
class Said:
    """A stored message, with the files of an answer that are not stored anywhere (the
    ``/mydata`` zip: hrbot keeps no copy). Those go to the page once, in the HTTP answer to the
    turn that made them; the stored message keeps only their names."""

    message: WebMessage
    unstored: tuple[OutgoingFile, ...] = ()


def take_message(web: WebChat, who: Person, form: ChatForm) -> list[Said]:
    """Store the user's message, let the conversation answer, store the answers."""
    attachments = tuple(
        Attachment(f.filename, f.content_type, len(f.content), f"web-{i}", bytes(f.content))
        for i, f in enumerate(form.files)
    )
    said = webchat.post(web.ctx, who.employee_id, [user_payload(form.text, attachments)])
    incoming = IncomingMessage(address(who), form.text, attachments, form.locale)
    answers = store_replies(web, who, web.handler.on_message(incoming, who.employee_id))
    return [Said(m) for m in said] + answers


def take_click(web: WebChat, who: Person, token: str, action: str) -> list[Said]:
    click = ButtonClick(address(who), action or "web.click", token)
    return store_replies(web, who, web.handler.on_click(click, who.employee_id))


def store_replies(web: WebChat, who: Person, replies: list[OutgoingMessage]) -> list[Said]:
    def find(content: bytes) -> int | None:
        return webchat.document_for(web.ctx, who.employee_id, content)

    payloads = [bot_payload(reply, "reply", find) for reply in replies]
    stored = webchat.post(web.ctx, who.employee_id, payloads) if payloads else []
    return [Said(m, r.files) for m, r in zip(stored, replies, strict=True)]


def read_file(web: WebChat, who: Person, document_id: int) -> tuple[ClaimDocument, bytes]:
    """A document through the core's authorised, audited read; never straight from disk."""
    return claims.read_document(web.ctx, document_id, who.employee_id, channel="web")


def view(
    web: WebChat, who: Person, message: WebMessage, unstored: tuple[OutgoingFile, ...] = ()
) -> dict[str, Any]:
    """A stored message as the page draws it; file links are signed afresh for this viewer.
    A file that is no stored document comes inline (base64) when ``unstored`` holds it: the
    page offers it for download this once, and a reload shows only its name."""
    payload, links = message.payload, web.links()
    files = []
    for index, entry in enumerate(payload.get("files", [])):
        document = entry.get("document_id")
        url = f"/chat/api/files/{links.sign(f'{document}:{who.employee_id}')}" if document else None
        shown = {k: entry.get(k) for k in ("filename", "content_type", "size")} | {"url": url}
        if url is None and index < len(unstored):
            shown["data"] = base64.b64encode(unstored[index].content).decode()
        files.append(shown)
    return {
        "id": message.id,
        "replaces": message.replaces_id,
        "at": message.created_at.isoformat(),
        "from": payload.get("from", "bot"),
        "kind": payload.get("kind", "push"),
        "key": payload.get("key"),
        "text": payload.get("text", ""),
        "buttons": payload.get("buttons", []),
        "files": files,
    }


def person_view(who: Person) -> dict[str, Any]:
    return {
        "employee_no": who.employee_no,
        "name": who.name,
        "role": who.role,
        "branch": who.branch,
        "locale": who.locale,
    }
