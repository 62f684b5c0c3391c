"""A channel that keeps what it is sent: ``hrbot demo`` prints it, tests assert on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.chat import Address, OutgoingMessage


@dataclass
class RecordingChannel:
    sent: list[tuple[Address, OutgoingMessage]] = field(default_factory=list)

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        self.sent.append((address, message))
        return f"rec-{len(self.sent)}"

    def to(self, target: str) -> list[OutgoingMessage]:
        return [message for address, message in self.sent if address.target == target]

    def clear(self) -> None:
        self.sent.clear()
