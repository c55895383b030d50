"""GET /t.js: the first-party tracker for the declaration in force."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from troth.collect.scripts.served import script_response
from troth.collect.scripts.tracker import tracker_script
from troth.security.deps import public
from troth.web.deps import RuntimeDep

router = APIRouter(tags=["collection"], dependencies=[Depends(public)])


@router.get("/t.js", response_class=Response)
def tracker(request: Request, runtime: RuntimeDep) -> Response:
    """The tracker script: page views, SPA navigation, events, outbound links and downloads."""
    return script_response(request, tracker_script(runtime.declaration))
