"""Settings: `TROTH_*` environment variables over `troth.toml` over defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_ENV = "TROTH_CONFIG"
DEFAULT_CONFIG_FILE = "troth.toml"


def config_file() -> Path:
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TROTH_", extra="forbid")

    data_dir: Path = Field(default=Path("troth-data"), description="Where Troth keeps its files.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file in the data directory.",
    )
    policy_file: Path = Field(default=Path("policy.yaml"), description="The declaration.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = Field(default="", description="Base URL people reach Troth at.")
    job_poll_seconds: float = Field(default=1.0, gt=0)
    workers: int = Field(default=1, ge=1, le=64, description="Web worker processes.")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1", description="Proxies trusted for X-Forwarded-For."
    )
    master_key: SecretStr | None = Field(
        default=None, description="Base64 master key ring; wins over master_key_file."
    )
    master_key_file: Path | None = Field(
        default=None, description="File holding the master key ring; default key_dir/master.key."
    )
    key_dir: Path | None = Field(
        default=None,
        description="The key store's folder, kept apart from the data: <data_dir>-keys.",
    )
    session_hours: float = Field(default=12, gt=0, le=720)
    smtp_host: str = Field(default="localhost", description="SMTP server that relays Troth's mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_from_address: str = Field(
        default="", description="From address; empty means the declaration's support email."
    )
    smtp_timeout: float = Field(default=30, gt=0, le=300)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be a sqlite:// or postgresql+psycopg:// URL")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'troth.db').resolve()}"

    @property
    def resolved_key_dir(self) -> Path:
        if self.key_dir is not None:
            return self.key_dir
        data = self.data_dir.resolve()
        return data.parent / f"{data.name}-keys"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.resolved_key_dir / "master.key"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
