"""The e-mail channel: SMTP from ``HRBOT_SMTP_URL``, STARTTLS whenever the server offers it.

Each message goes out as plain text with an HTML alternative, in the recipient's language.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from core.chat import Address, OutgoingMessage
from core.ports import DeliveryFailed


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    sender: str = "hrbot <hrbot@localhost>"
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str, sender: str | None = None) -> SmtpConfig:
        """``smtp://user:pass@host:port`` (STARTTLS when offered) or ``smtps://`` (TLS at once)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("HRBOT_SMTP_URL must look like smtp://user:pass@host:port")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            sender=sender or cls.sender,
        )


def build_email(sender: str, to: str, message: OutgoingMessage) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject or message.text.splitlines()[0][:120]
    email["From"] = sender
    email["To"] = to
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="hrbot.local")
    email.set_content(message.text)
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in message.text.splitlines())
    lang = html.escape(message.locale or "zh-CN")
    email.add_alternative(
        f'<!doctype html><html lang="{lang}"><body>{paragraphs}</body></html>', subtype="html"
    )
    if message.locale:  # after set_content, which clears every Content-* header
        email["Content-Language"] = message.locale
    return email


class SmtpChannel:
    """``Channel`` over SMTP; the address target is the recipient's e-mail address."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        email = build_email(self.config.sender, address.target, message)
        try:
            with self._connect() as smtp:
                if self.config.username:
                    smtp.login(self.config.username, self.config.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryFailed("recipient refused", permanent=True) from error
        except smtplib.SMTPResponseException as error:
            # 4xx is temporary (greylisting, mailbox busy); 5xx will not get better by retrying.
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryFailed(f"SMTP {error.smtp_code}", permanent=permanent) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP unavailable: {type(error).__name__}") from error
        return str(email["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context()
        if config.implicit_tls:
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=context
            )
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        return smtp
