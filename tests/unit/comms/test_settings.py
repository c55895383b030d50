"""SMTP settings come from the application's Settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from troth.comms.settings import SmtpSecurity, SmtpSettings, smtp_settings
from troth.config import Settings


def WithSmtp(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        smtp_host="mail.example.org",
        smtp_port=465,
        smtp_username="troth",
        smtp_password=SecretStr("s3cret"),
        smtp_security="ssl",
        smtp_from_address="privacy@example.org",
        smtp_timeout=12.5,
    )


def test_defaults(tmp_path: Path) -> None:
    got = smtp_settings(Settings(data_dir=tmp_path))

    assert got == SmtpSettings()
    assert got.security is SmtpSecurity.starttls
    assert got.password is None


def test_smtp_fields_of_settings_are_read(tmp_path: Path) -> None:
    got = smtp_settings(WithSmtp(data_dir=tmp_path))

    assert (got.host, got.port, got.username) == ("mail.example.org", 465, "troth")
    assert got.password is not None
    assert got.password.get_secret_value() == "s3cret"
    assert got.security is SmtpSecurity.ssl
    assert got.from_address == "privacy@example.org"
    assert got.timeout == 12.5


def test_password_never_shows_in_the_settings_repr(tmp_path: Path) -> None:
    assert "s3cret" not in repr(smtp_settings(WithSmtp(data_dir=tmp_path)))
