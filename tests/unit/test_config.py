"""Settings: defaults, troth.toml, TROTH_* variables winning over the file, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from troth.config import Settings


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TROTH_CONFIG", "TROTH_DATABASE_URL", "TROTH_DATA_DIR", "TROTH_PORT"):
        monkeypatch.delenv(name, raising=False)


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'troth-data' / 'troth.db'}"
    assert settings.resolved_key_dir == tmp_path / "troth-data-keys"


def test_toml_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "troth.toml").write_text('data_dir = "elsewhere"\nport = 9000\n')
    assert Settings().port == 9000
    assert Settings().data_dir == Path("elsewhere")
    monkeypatch.setenv("TROTH_PORT", "9100")
    assert Settings().port == 9100


def test_config_file_can_be_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = tmp_path / "conf" / "prod.toml"
    named.parent.mkdir()
    named.write_text('database_url = "postgresql+psycopg://troth@db/troth"\n')
    monkeypatch.setenv("TROTH_CONFIG", str(named))
    assert Settings().resolved_database_url == "postgresql+psycopg://troth@db/troth"


def test_unknown_database_and_bad_port_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROTH_DATABASE_URL", "mysql://x")
    with pytest.raises(ValidationError, match="sqlite:// or postgresql"):
        Settings()
    monkeypatch.delenv("TROTH_DATABASE_URL")
    monkeypatch.setenv("TROTH_PORT", "99999")
    with pytest.raises(ValidationError):
        Settings()


def test_cookies_are_secure_only_behind_https() -> None:
    assert not Settings().secure_cookies
    assert Settings(public_url="https://privacy.example.com").secure_cookies
