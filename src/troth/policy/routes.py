"""The public policy pages: /privacy, /privacy/history and /privacy/versions/{number}."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from troth.errors import NotFound, TrothError
from troth.policy import service
from troth.policy.render import markdown_to_html, render_markdown
from troth.web.deps import SessionDep
from troth.web.templating import templates

router = APIRouter(tags=["privacy policy"])

Format = Literal["html", "md"] | None
MARKDOWN = "text/markdown; charset=utf-8"


def wants_markdown(request: Request, format: Format) -> bool:
    if format is not None:
        return format == "md"
    accept = request.headers.get("accept", "")
    return "text/markdown" in accept and "text/html" not in accept


def stamp(moment: dt.datetime) -> str:
    """A publication time in UTC; SQLite hands back naive datetimes that are UTC."""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def not_found(request: Request, exc: TrothError, markdown: bool) -> Response:
    """A page, not JSON: these are public pages people open in a browser."""
    if markdown:
        return PlainTextResponse(exc.message + "\n", status_code=404)
    context = {"status": 404, "message": exc.message}
    return templates.TemplateResponse(request, "error.html", context, status_code=404)


def policy_page(
    request: Request, session: SessionDep, number: int | None, format: Format
) -> Response:
    markdown = wants_markdown(request, format)
    try:
        policy = service.published(session, number)
    except NotFound as exc:
        return not_found(request, exc, markdown)
    text = render_markdown(policy.declaration)
    if markdown:
        return PlainTextResponse(text, media_type=MARKDOWN)
    context = {
        "organization_name": policy.declaration.organization.short_name,
        "policy_html": markdown_to_html(text),
        "version": policy.version,
        "is_latest": policy.is_latest,
        "published_at": stamp(policy.version.published_at),
        "markdown_url": f"{request.url.path}?format=md",
    }
    return templates.TemplateResponse(request, "privacy.html", context)


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, session: SessionDep, format: Format = None) -> Response:
    """The current privacy policy; `?format=md` or `Accept: text/markdown` for Markdown."""
    return policy_page(request, session, None, format)


@router.get("/privacy/versions/{number}", response_class=HTMLResponse)
def privacy_version(
    request: Request, session: SessionDep, number: int, format: Format = None
) -> Response:
    """One published version of the policy, as it was published."""
    return policy_page(request, session, number, format)


@router.get("/privacy/history", response_class=HTMLResponse)
def privacy_history(request: Request, session: SessionDep) -> Response:
    """Every published version, newest first."""
    versions = service.history(session)
    context = {
        "versions": versions,
        "stamps": {version.number: stamp(version.published_at) for version in versions},
    }
    return templates.TemplateResponse(request, "history.html", context)
