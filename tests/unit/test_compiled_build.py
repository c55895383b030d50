"""The compiled build (setup.py, TROTH_COMPILE=1): `scripts/test` runs the whole suite a second
time against it with TROTH_EXPECT_COMPILED=1. These tests make sure each run tests the build it
says it does."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _listed() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        names: list[str] = tomllib.load(file)["tool"]["troth"]["compiled"]
    return names


def _is_extension(module_name: str) -> bool:
    origin = importlib.import_module(module_name).__file__ or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_the_listed_modules_are_compiled_exactly_when_the_compiled_build_is_tested() -> None:
    expected = os.environ.get("TROTH_EXPECT_COMPILED") == "1"
    names = _listed()
    assert names, "pyproject.toml lists no module to compile"
    assert {name: _is_extension(name) for name in names} == dict.fromkeys(names, expected)


def test_no_compiled_module_lies_beside_the_sources() -> None:
    """An extension module in src/ would be imported instead of the .py file beside it, so an
    edit of that source would change nothing (an editable install must stay plain)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    assert [p for p in (ROOT / "src").rglob("*") if p.name.endswith(suffixes)] == []
