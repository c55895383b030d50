"""Cross-origin access to the consent API: only pages of the declared sites (SC1).

`CorsRoute` answers every response of such a route, errors included, with the CORS
headers its Origin is entitled to, so the banner can read why a request was refused.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from troth.collect.sites import Sites
from troth.errors import Forbidden, TrothError
from troth.policy.schema import Declaration

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "content-type"
PREFLIGHT_MAX_AGE = "600"


def covered(declaration: Declaration, origin: str) -> bool:
    return Sites.of(declaration.sites).covers_origin(origin)


def site_of_origin(declaration: Declaration, origin: str) -> str | None:
    return Sites.of(declaration.sites).site_of(urlsplit(origin).hostname or "")


def require_origin(declaration: Declaration, origin: str | None) -> str:
    """The request's Origin when it is a declared site or subdomain; Forbidden otherwise."""
    if not origin:
        raise Forbidden("no Origin header: this endpoint answers pages of the declared sites")
    if not covered(declaration, origin):
        raise Forbidden(f"{origin} is not a site this privacy policy covers")
    return origin


def headers_for(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        **headers_for(origin),
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }


def _declaration(request: Request) -> Declaration:
    declaration: Declaration = request.app.state.runtime.declaration
    return declaration


class CorsRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except TrothError as exc:
                response = JSONResponse({"detail": exc.message}, status_code=exc.status_code)
            origin = request.headers.get("origin")
            if origin and covered(_declaration(request), origin):
                response.headers.update(headers_for(origin))
            return response

        return with_cors
