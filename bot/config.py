"""Configuration from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")


class ConfigError(Exception):
    """A configuration problem, told in one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias="TELEGRAM_API_BASE_URL"
    )
    database_url: str = Field(default="sqlite+aiosqlite:///salescoach.db", validation_alias="DATABASE_URL")
    admins_raw: str = Field(default="", validation_alias="SALESCOACH_ADMINS")
    timezone: str = Field(default="Asia/Shanghai", validation_alias="SALESCOACH_TZ")
    flow_idle_days: int = Field(default=7, ge=1, le=365, validation_alias="SALESCOACH_FLOW_IDLE_DAYS")
    resume_after_minutes: int = Field(
        default=60, ge=1, le=60 * 24 * 30, validation_alias="SALESCOACH_RESUME_AFTER_MINUTES"
    )
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="SALESCOACH_WEBHOOK_SECRET")
    webhook_listen: str = Field(default="127.0.0.1:8080", validation_alias="SALESCOACH_WEBHOOK_LISTEN")
    knowledge_dir: Path = Field(
        default=REPO_ROOT / "knowledge", validation_alias=AliasChoices("SALESCOACH_KNOWLEDGE_DIR")
    )
    talk_dir: Path = Field(default=REPO_ROOT / "scripts_talk", validation_alias="SALESCOACH_TALK_DIR")
    log_level: str = Field(default="INFO", validation_alias="SALESCOACH_LOG_LEVEL")
    # Telegram allows about 30 messages/s overall; 0 turns the client-side limiter off (local Bot API, benchmarks)
    send_rate: float = Field(default=30.0, ge=0, le=1000, validation_alias="SALESCOACH_SEND_RATE")
    # and about one message a second in one chat, short bursts allowed; 0 turns this limiter off
    chat_send_rate: float = Field(default=1.0, ge=0, le=1000, validation_alias="SALESCOACH_CHAT_SEND_RATE")
    # knowledge searches in a helper process (another core) instead of the bot's event loop
    search_worker: bool = Field(default=True, validation_alias="SALESCOACH_SEARCH_WORKER")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def admins(self) -> frozenset[int]:
        ids = set()
        for part in self.admins_raw.replace(";", ",").split(","):
            part = part.strip()
            if part:
                ids.add(int(part))
        return frozenset(ids)

    @field_validator("admins_raw")
    @classmethod
    def _admin_ids(cls, value: str) -> str:
        for part in value.replace(";", ",").split(","):
            if part.strip() and not part.strip().lstrip("-").isdigit():
                raise ValueError(f"not a Telegram user id: {part.strip()!r}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """The bot token, checked; never logged."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value().strip():
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in the environment or .env"
            )
        token = self.telegram_bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is malformed: expected the form 123456789:ABC... given by @BotFather"
            )
        return token


_ENV_NAMES = {
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
    "telegram_api_base_url": "TELEGRAM_API_BASE_URL",
    "database_url": "DATABASE_URL",
    "admins_raw": "SALESCOACH_ADMINS",
    "timezone": "SALESCOACH_TZ",
    "flow_idle_days": "SALESCOACH_FLOW_IDLE_DAYS",
    "resume_after_minutes": "SALESCOACH_RESUME_AFTER_MINUTES",
    "log_level": "SALESCOACH_LOG_LEVEL",
    "send_rate": "SALESCOACH_SEND_RATE",
    "chat_send_rate": "SALESCOACH_CHAT_SEND_RATE",
    "webhook_listen": "SALESCOACH_WEBHOOK_LISTEN",
}


def load_settings(**overrides: object) -> Settings:
    """Settings or a ConfigError naming the variable (no traceback, no secret values)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = str(err["loc"][0]) if err["loc"] else "?"
        name = _ENV_NAMES.get(loc, loc)
        raise ConfigError(f"{name} is invalid: {err['msg']}") from None
