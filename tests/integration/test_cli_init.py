"""`troth init` writes a working config and declaration; the CLI fails in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TROTH = str(Path(sys.executable).with_name("troth"))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROTH_")}
    return subprocess.run(
        [TROTH, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_init_then_check_passes(tmp_path: Path) -> None:
    init = run("init", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "troth.toml").exists()
    assert (tmp_path / "policy.yaml").exists()
    check = run("policy", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "consistent" in check.stdout


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    again = run("init", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"error: {Path('.') / 'troth.toml'} exists; use --force to overwrite it"
    ]


def test_bad_settings_fail_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "troth.toml").write_text("port = 0\n")
    result = run("migrate", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: settings: port:")


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in (["--help"], ["init", "--help"], ["serve", "--help"], ["policy", "--help"]):
        result = run(*command, cwd=tmp_path)
        assert result.returncode == 0, command
        assert "Usage" in result.stdout
