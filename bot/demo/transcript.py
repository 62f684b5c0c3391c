"""Prints the demo as each party sees it, and keeps score of the scripted checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.recording import RecordingChannel
from bot.i18n import CatalogRenderer
from core.chat import Address, OutgoingMessage, Platform
from core.domain.directory import Employee
from core.domain.notifications import ChannelKind
from core.ports import Channel
from core.services.context import Context
from core.services.delivery import deliver_due

_CHANNEL_NAMES = {
    "zh-CN": {Platform.RECORDING: "聊天", Platform.EMAIL: "邮件", Platform.SMS: "短信"},
    "en": {Platform.RECORDING: "chat", Platform.EMAIL: "e-mail", Platform.SMS: "SMS"},
}
_PLATFORM = {
    ChannelKind.CHAT: Platform.RECORDING,
    ChannelKind.EMAIL: Platform.EMAIL,
    ChannelKind.SMS: Platform.SMS,
}


@dataclass
class RecordingRouter:
    """Every channel of every person lands in one recording, addressed by employee number."""

    channel: RecordingChannel

    def route(self, recipient: Employee, channel: ChannelKind) -> tuple[Channel, Address] | None:
        if channel is ChannelKind.EMAIL and not recipient.email:
            return None
        if channel is ChannelKind.SMS and not recipient.phone:
            return None
        return self.channel, Address(_PLATFORM[channel], recipient.employee_no)


@dataclass
class Transcript:
    ctx: Context
    lang: str
    out: Callable[[str], None]
    names: dict[str, str] = field(default_factory=dict)
    channel: RecordingChannel = field(default_factory=RecordingChannel)
    passed: int = 0
    failed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.renderer = CatalogRenderer(self.lang, self.ctx.rules.timezone, force_locale=self.lang)

    def text(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh-CN" else en

    def heading(self, zh: str, en: str) -> None:
        self.out("")
        self.out(f"━━ {self.text(zh, en)}")

    def say(self, zh: str, en: str) -> None:
        self.out(f"   {self.text(zh, en)}")

    def check(self, ok: bool, zh: str, en: str) -> bool:
        what = self.text(zh, en)
        if ok:
            self.passed += 1
            self.out(f"   ✔ {what}")
        else:
            self.failed.append(what)
            self.out(f"   ✘ {self.text('未按脚本发生', 'did not happen as scripted')}: {what}")
        return ok

    def deliver(self) -> list[tuple[Address, OutgoingMessage]]:
        """Send what the outbox holds and print each message under its recipient's name."""
        start = len(self.channel.sent)
        deliver_due(self.ctx, RecordingRouter(self.channel), self.renderer)
        new = self.channel.sent[start:]
        for address, message in new:
            who = self.names.get(address.target, address.target)
            via = _CHANNEL_NAMES[self.lang][address.platform]
            self.out(f"   ➜ {who} · {via}: {message.text}")
            if message.buttons and address.platform is Platform.RECORDING:
                self.out("       " + "  ".join(f"[{b.label}]" for b in message.buttons))
        return new
