"""Settings from the environment (prefix ``HRBOT_``) and ``.env``, as CONTRACT.md lists them."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
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

    claim_check_months: int = Field(3, ge=1, le=24)
    self_service_months: int = Field(6, ge=1, le=24)
    lapse_after_months: int = Field(3, ge=1, le=24)
    escalation_manager_hours: float = Field(24, ge=0)
    escalation_director_hours: float = Field(48, ge=0)

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
