"""The e-mail and SMS channels against real local servers: aiosmtpd and an HTTP gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.email import SmtpChannel, SmtpConfig
from adapters.sms import SmsChannel, retry_after_seconds
from core.chat import Address, OutgoingMessage, Platform
from core.ports import DeliveryFailed
from tests.fakes import SmtpInbox, http_server, json_reply, smtp_server

NOTICE = OutgoingMessage(
    text="🚨 社保异常提醒（一级）：上海分公司的张三报销 C000001 已暂缓。\n请在 24 小时内确认原因。",
    subject="社保异常提醒（一级）",
    key="alert.level1",
    locale="zh-CN",
)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as server:
        yield server


def test_email_arrives_with_subject_language_and_both_bodies(smtp: tuple[SmtpInbox, int]) -> None:
    inbox, port = smtp
    channel = SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}", "hrbot <hr@corp.cn>"))
    message_id = channel.send(Address(Platform.EMAIL, "wangfang@example.com"), NOTICE)
    assert len(inbox.messages) == 1
    recipients, email = inbox.messages[0]
    assert recipients == ["wangfang@example.com"]
    assert email["Message-ID"] == message_id
    assert "社保异常提醒" in str(email["Subject"]) or "=?utf-8?" in str(email["Subject"])
    assert email["Content-Language"] == "zh-CN"
    parts = {part.get_content_type(): part for part in email.walk()}
    plain = parts["text/plain"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    html = parts["text/html"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "24 小时内确认原因" in plain
    assert '<html lang="zh-CN">' in html


def test_email_to_a_closed_port_is_a_temporary_failure() -> None:
    channel = SmtpChannel(SmtpConfig.from_url("smtp://127.0.0.1:1"))
    with pytest.raises(DeliveryFailed) as failure:
        channel.send(Address(Platform.EMAIL, "x@example.com"), NOTICE)
    assert not failure.value.permanent


def test_smtp_url_parsing() -> None:
    config = SmtpConfig.from_url("smtp://bot%40corp:p%40ss@mail.corp.cn:587")
    assert (config.host, config.port, config.username, config.password) == (
        "mail.corp.cn",
        587,
        "bot@corp",
        "p@ss",
    )
    assert SmtpConfig.from_url("smtps://mail.corp.cn").port == 465
    with pytest.raises(ValueError):
        SmtpConfig.from_url("http://mail.corp.cn")


SMS = OutgoingMessage(text="【hrbot】报销C000001已打款¥8650.00", key="claim.paid")


def test_sms_posts_only_number_and_text() -> None:
    with http_server([json_reply(200, {"id": "sms-42"})]) as gateway:
        channel = SmsChannel(gateway.url)
        assert channel.send(Address(Platform.SMS, "13800001001"), SMS) == "sms-42"
    assert gateway.requests[0]["json"] == {"to": "13800001001", "text": SMS.text}


def test_sms_429_carries_retry_after() -> None:
    reply = json_reply(429, {"error": "slow down"}, {"Retry-After": "7"})
    with http_server([reply]) as gateway, pytest.raises(DeliveryFailed) as failure:
        SmsChannel(gateway.url).send(Address(Platform.SMS, "13800001001"), SMS)
    assert failure.value.retry_after == 7
    assert not failure.value.permanent


def test_sms_500_is_retried_and_400_is_permanent() -> None:
    with http_server([json_reply(500, {}), json_reply(400, {"error": "bad number"})]) as gateway:
        channel = SmsChannel(gateway.url)
        with pytest.raises(DeliveryFailed) as server_error:
            channel.send(Address(Platform.SMS, "1"), SMS)
        with pytest.raises(DeliveryFailed) as refused:
            channel.send(Address(Platform.SMS, "1"), SMS)
    assert not server_error.value.permanent
    assert refused.value.permanent


def test_retry_after_accepts_an_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
    assert retry_after_seconds("Mon, 12 Oct 2026 01:00:30 GMT", now) == 30
    assert retry_after_seconds("soon", now) is None
