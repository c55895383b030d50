"""The console's shell: its layout and the sign-in page every console visit starts from."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from troth.web.templating import templates

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
@router.get("/")
def console_home() -> RedirectResponse:
    return RedirectResponse("/console/sign-in", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "console/sign_in.html", {"error": None})
