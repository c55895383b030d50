"""SMTP settings as the sending code needs them, from the application's Settings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr

from troth.config import Settings


class SmtpSecurity(StrEnum):
    starttls = "starttls"
    """Plain connection upgraded with STARTTLS; refused if the server does not offer it."""
    ssl = "ssl"
    """TLS from the first byte (usually port 465)."""
    none = "none"
    """No encryption: only for a relay on the same machine."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    security: SmtpSecurity = SmtpSecurity.starttls
    from_address: str = ""
    """Empty: the organisation's support address from the declaration."""
    timeout: float = 30.0


def smtp_settings(settings: Settings) -> SmtpSettings:
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password,
        security=SmtpSecurity(settings.smtp_security),
        from_address=settings.smtp_from_address,
        timeout=settings.smtp_timeout,
    )
