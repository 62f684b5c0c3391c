"""Which channel and address reach a person: their chat platform, e-mail or phone.

The bot chooses the concrete adapters here (the composition root's job); the core only asks
``route(recipient, kind)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.chat import Address, Platform
from core.domain.directory import Employee
from core.domain.notifications import ChannelKind
from core.ports import Channel


@dataclass
class ChannelRouter:
    chats: dict[Platform, Channel] = field(default_factory=dict)
    """Chat channels by platform, in order of preference (Slack, Telegram, web)."""
    email: Channel | None = None
    sms: Channel | None = None

    def route(self, recipient: Employee, kind: ChannelKind) -> tuple[Channel, Address] | None:
        if kind is ChannelKind.EMAIL:
            return (
                (self.email, Address(Platform.EMAIL, recipient.email))
                if (self.email and recipient.email)
                else None
            )
        if kind is ChannelKind.SMS:
            return (
                (self.sms, Address(Platform.SMS, recipient.phone))
                if (self.sms and recipient.phone)
                else None
            )
        for platform, channel in self.chats.items():
            target = self._chat_id(recipient, platform)
            if target:
                return channel, Address(platform, target)
        return None

    @staticmethod
    def _chat_id(recipient: Employee, platform: Platform) -> str | None:
        if platform is Platform.SLACK:
            return recipient.slack_user_id
        if platform is Platform.TELEGRAM:
            return recipient.telegram_user_id
        if platform in (Platform.WEB, Platform.RECORDING):
            return recipient.employee_no
        return None
