"""Settings from the environment (prefix ``HRBOT_``) and ``.env``, as CONTRACT.md lists them."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HRBOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/hrbot.db"
    documents_dir: Path = Path("./var/documents")
    max_upload_mb: int = Field(20, ge=1, le=200)
    max_image_pixels: int = Field(40_000_000, ge=1_000_000)
    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["webhook", "polling"] = "webhook"
    smtp_url: str | None = None
    smtp_from: str = "hrbot <hrbot@localhost>"
    sms_webhook_url: str | None = None
    demo_mode: bool = False
    secret_key: str | None = None
    encryption_key: str | None = None
    """Encrypts ID numbers, phone numbers and documents at rest: comma-separated keys of 32+
    characters, the current one first (older ones still decrypt). Unset: a key derived from
    ``./var/secret_key`` (core/encryption_keys.py)."""

    @field_validator("encryption_key")
    @classmethod
    def _encryption_key(cls, value: str | None) -> str | None:
        from core.encryption import parse_secrets

        return ",".join(parse_secrets(value)) if value and value.strip() else None

    def encryption_keyring(self, var_dir: Path = Path("./var")) -> Any:
        """The ``core.encryption.Keyring`` these settings name."""
        from core.encryption_keys import keyring_from

        return keyring_from(self.encryption_key, var_dir)

    log_level: str = "INFO"
    """DEBUG, INFO, WARNING, ERROR or CRITICAL (any case) for ``hrbot serve`` and ``worker``."""
    metrics_host: str = "127.0.0.1"
    """Where ``hrbot worker --metrics-port`` listens; /metrics is not for the public."""
    metrics_token: str | None = None
    """When set, ``GET /metrics`` on the web processes wants ``Authorization: Bearer <it>``
    (Prometheus: ``authorization: {credentials: …}``); unset, it answers anyone who reaches it."""

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        from bot.logs import level_name

        return level_name(value)

    claim_check_months: int = Field(3, ge=1, le=24)
    self_service_months: int = Field(6, ge=1, le=24)
    lapse_after_months: int = Field(3, ge=1, le=24)
    escalation_manager_hours: float = Field(24, ge=0)
    escalation_director_hours: float = Field(48, ge=0)
    escalation_unit: Literal["h", "wh", "wd"] = "h"
    """The two delays above in calendar hours (h), working hours (wh) or working days (wd)."""
    escalation_repeat: int = Field(2, ge=0, le=10)
    """The HR director is told again this many times (a day apart) before the alert goes on
    the weekly management list."""
    approval_remind_every: str = "8wh"
    """A batch or claim waiting for a decision reminds its approver this often."""
    approval_deadline: str = "3wd"
    """A decision still missing this long after the wait began opens an alert that escalates."""
    working_hours: str = "09:00-18:00"
    quiet_hours: bool = True
    """Staff's non-urgent chat pushes wait for working hours (never in demo mode)."""
    holidays: Literal["cn", "none"] = "cn"
    """Workdays: mainland China's calendar (public holidays, 调休 make-up days) or Mon–Fri."""

    # The monthly contribution cycle (README: "The monthly cycle").
    settlement: Literal["manual", "gateway", "sandbox"] = "manual"
    bureau_gateway_url: str | None = None
    bureau_gateway_token: str | None = None
    payment_gateway_url: str | None = None
    payment_gateway_token: str | None = None
    gateway_timeout: float = Field(10, gt=0, le=300)
    gateway_retries: int = Field(3, ge=0, le=10)
    roster_day: int = Field(1, ge=1, le=28)
    approval_confirm_above: Decimal | None = Field(None, ge=0)
    employer_rate: Decimal = Field(Decimal("0.26"), ge=0, le=1)
    employee_rate: Decimal = Field(Decimal("0.105"), ge=0, le=1)
    base_min: Decimal | None = Field(None, ge=0)
    base_max: Decimal | None = Field(None, ge=0)
    digest_hour: int | None = Field(9, ge=0, le=23)
    """Local hour of the daily digests and the weekly summary; blank: no digests."""
    weekly_digest_day: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    # Retention (PIPL): how long personal information is kept before `hrbot purge` removes it.
    retain_documents_days: int = Field(365, ge=1)
    """Claim documents, counted from when the claim closed (paid, rejected or withdrawn)."""
    retain_web_messages_days: int = Field(180, ge=1)
    """Messages of the built-in web chat."""
    retain_leavers_days: int = Field(730, ge=1)
    """ID and mobile numbers of people who left, counted from their leave date."""

    @field_validator(
        "approval_confirm_above",
        "base_min",
        "base_max",
        "bureau_gateway_url",
        "bureau_gateway_token",
        "payment_gateway_url",
        "payment_gateway_token",
        "digest_hour",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # ``HRBOT_BASE_MIN=`` in a .env file means "not set", not "an invalid number".
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Settings:
        low, high = self.base_min, self.base_max
        if low is not None and high is not None and low > high:
            raise ValueError("HRBOT_BASE_MIN is above HRBOT_BASE_MAX")
        return self

    def gateway_problem(self) -> str | None:
        """Why the configured settlement cannot start, in one line; None when it can."""
        if self.settlement != "gateway":
            return None
        needed = {
            "HRBOT_BUREAU_GATEWAY_URL": self.bureau_gateway_url,
            "HRBOT_BUREAU_GATEWAY_TOKEN": self.bureau_gateway_token,
            "HRBOT_PAYMENT_GATEWAY_URL": self.payment_gateway_url,
            "HRBOT_PAYMENT_GATEWAY_TOKEN": self.payment_gateway_token,
        }
        missing = [name for name, value in needed.items() if not value]
        if missing:
            return f"HRBOT_SETTLEMENT=gateway needs {', '.join(missing)} (or use manual or sandbox)"
        for name in ("HRBOT_BUREAU_GATEWAY_URL", "HRBOT_PAYMENT_GATEWAY_URL"):
            if not str(needed[name]).startswith(("http://", "https://")):
                return f"{name} must be an absolute http(s) URL"
        return None

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str) -> str:
        from core.domain.errors import InvalidValue
        from core.domain.workclock import WorkingHours

        try:
            return str(WorkingHours.parse(value))
        except InvalidValue as error:
            raise ValueError(f"HRBOT_WORKING_HOURS: {error}") from None

    @field_validator("approval_remind_every", "approval_deadline")
    @classmethod
    def _delay(cls, value: str) -> str:
        from core.domain.errors import InvalidValue
        from core.domain.workclock import Delay

        try:
            delay = Delay.parse(value)
        except InvalidValue as error:
            raise ValueError(f"{error} (e.g. 8wh, 24h, 3wd)") from None
        if delay.amount <= 0:
            raise ValueError("must be more than zero (e.g. 8wh, 24h, 3wd)")
        return str(delay)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def resolved_secret_key(self, var_dir: Path = Path("./var")) -> str:
        """The configured key, else one generated once into ``./var/secret_key``."""
        if self.secret_key:
            return self.secret_key
        path = var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
