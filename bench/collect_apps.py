"""The baselines `bench/collect.py` serves beside Troth: apps that accept a hit and do nothing.

Both read the whole request body before answering (a collector that does not read what it is
sent is not a collector), then answer 204 with no body.

    uvicorn bench.collect_apps:plain     # a bare ASGI callable
    uvicorn bench.collect_apps:starlette # Starlette routing + Request: the design's "ceiling"
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

NO_CONTENT_START = {"type": "http.response.start", "status": 204, "headers": []}
EMPTY_BODY = {"type": "http.response.body", "body": b""}


async def plain(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(NO_CONTENT_START)
    await send(EMPTY_BODY)


async def _collect(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)


starlette = Starlette(routes=[Route("/api/collect", _collect, methods=["POST"])])
