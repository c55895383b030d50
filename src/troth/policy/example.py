"""The example declaration `troth init` writes: a B2B analytics business."""

from __future__ import annotations

from pathlib import Path

EXAMPLE_POLICY = Path(__file__).with_name("example.yaml")
