"""Reading a consent choice from a request: at most 4 KB of JSON, validated."""

from __future__ import annotations

import json

from fastapi import Request
from pydantic import ValidationError

from troth.consent.schemas import ConsentIn
from troth.errors import BadRequest, TrothError

MAX_BODY = 4096


class TooLarge(TrothError):
    status_code = 413


def _too_large() -> TooLarge:
    return TooLarge(f"the body is larger than {MAX_BODY} bytes")


async def read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _too_large()
    return bytes(body)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def parse(raw: bytes) -> ConsentIn:
    """A choice from JSON (sent as application/json or text/plain); BadRequest if malformed."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    try:
        return ConsentIn.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(f"invalid consent choice: {_first_problem(exc)}") from None


async def consent_body(request: Request) -> ConsentIn:
    return parse(await read_limited(request))
