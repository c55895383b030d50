"""One handler renders every TrothError: JSON for the API, a page for people."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from troth.errors import TrothError
from troth.web.templating import templates


def wants_json(request: Request) -> bool:
    path = request.url.path
    accept = request.headers.get("accept", "")
    return path.startswith("/api") or "text/html" not in accept


async def handle_troth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TrothError)
    if wants_json(request):
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": exc.status_code, "message": exc.message},
        status_code=exc.status_code,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(TrothError, handle_troth_error)
