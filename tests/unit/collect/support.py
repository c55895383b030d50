"""Collect configurations compiled from the example declaration, with a few changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from troth.collect.config import CollectConfig, compile_config
from troth.policy.loader import load_policy

EXAMPLE = Path(__file__).parents[3] / "src" / "troth" / "policy" / "example.yaml"
DECLARATION = load_policy(EXAMPLE).declaration

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def config(**changes: Any) -> CollectConfig:
    """The example's collect config; `changes` replace top-level sections of the declaration."""
    declaration = DECLARATION.model_copy(update=changes) if changes else DECLARATION
    return compile_config(declaration)
