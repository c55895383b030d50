"""Jinja2 environment shared by every domain's pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIRS = [WEB_DIR / "templates", WEB_DIR.parent / "policy" / "templates"]

templates = Jinja2Templates(directory=TEMPLATE_DIRS)
