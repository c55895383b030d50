"""Card numbers and security codes are refused in every request, before anything reads them.

The middleware reads the body of each POST, PUT and PATCH (up to MAX_BODY_BYTES), looks at
every string in it (JSON values and keys, form fields, uploaded text, the query string, and
the raw body) and answers 422 when it finds a Luhn-valid run of 13 to 19 digits or a
security-code field. Nothing of the request reaches a route, the database or a log. The
collector endpoints are exempt: they replace card numbers themselves, by design.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl, unquote_plus

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from troth.audit.personal import CARD_LIKE, luhn_valid
from troth.errors import Unprocessable
from troth.web.errors import handle_troth_error

REFUSAL = "card numbers and security codes are not accepted; use your payment processor's token"
EXEMPT_PATHS = frozenset({"/api/collect", "/p.gif"})
SCANNED_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_BODY_BYTES = 8 * 1024 * 1024
SECURITY_CODE_KEY = re.compile(
    r"(?:^|_)(?:cvc2?|cvv2?|cvn|csc|security_code|card_code|card_verification(?:_code|_value)?)$"
)
SECURITY_CODE_VALUE = re.compile(r"\s*\d{3,4}\s*")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-. ]+")


def looks_like_card(text: str) -> bool:
    """A Luhn-valid run of 13-19 digits standing on its own.

    A run written after + is an international phone number (+86 138 0013 8000), and one glued
    to letters is part of a token or a hash (a hex CSRF token holds long digit runs at
    random): neither is how a card number is written.
    """
    for match in CARD_LIKE.finditer(text):
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if before == "+" or before.isalpha() or after.isalpha():
            continue
        if luhn_valid(match.group().replace(" ", "").replace("-", "")):
            return True
    return False


def is_security_code_key(key: str) -> bool:
    snake = _SEPARATORS.sub("_", _CAMEL.sub("_", key)).lower()
    return SECURITY_CODE_KEY.search(snake) is not None


def pair_offends(key: str, value: str) -> bool:
    if looks_like_card(key) or looks_like_card(value):
        return True
    return is_security_code_key(key) and SECURITY_CODE_VALUE.fullmatch(value) is not None


def pairs_offend(pairs: Iterable[tuple[str, str]]) -> bool:
    return any(pair_offends(key, value) for key, value in pairs)


def json_pairs(data: object, key: str = "") -> Iterator[tuple[str, str]]:
    """Every scalar in a JSON document, with the key it sits under."""
    if isinstance(data, dict):
        for name, value in data.items():
            yield str(name), ""
            yield from json_pairs(value, str(name))
    elif isinstance(data, list):
        for item in data:
            yield from json_pairs(item, key)
    elif isinstance(data, str):
        yield key, data
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield key, str(data)


def body_offends(content_type: str, body: bytes) -> bool:
    """For everything but multipart forms (see _multipart_offends)."""
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if pairs_offend(json_pairs(document)):
            return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        if pairs_offend(parse_qsl(text, keep_blank_values=True)):
            return True
        text = unquote_plus(text)
    return looks_like_card(text)


def query_offends(query: bytes) -> bool:
    text = query.decode("latin-1")
    return pairs_offend(parse_qsl(text, keep_blank_values=True)) or looks_like_card(
        unquote_plus(text)
    )


class CardRefusalMiddleware:
    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _scanned(scope):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, self.max_body)
        if body is None:
            too_large = f"the request body is larger than {self.max_body} bytes"
            await JSONResponse({"detail": too_large}, status_code=413)(scope, receive, send)
            return
        replay = _replaying(body, receive)
        if query_offends(scope.get("query_string", b"")) or await _offends(scope, body):
            response = await _refusal(scope)
            await response(scope, receive, send)
            return
        await self.app(scope, replay, send)


def _scanned(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in SCANNED_METHODS
        and scope["path"] not in EXEMPT_PATHS
    )


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _offends(scope: Scope, body: bytes) -> bool:
    content_type = _content_type(scope)
    if content_type.startswith("multipart/form-data"):
        return await _multipart_offends(scope, body)
    return body_offends(content_type, body)


async def _multipart_offends(scope: Scope, body: bytes) -> bool:
    # The raw body is not scanned: a random boundary may itself hold a digit run.
    request = Request(scope, _replaying(body, _no_more))
    try:
        form = await request.form()
    except Exception:  # an unreadable form is refused later by whoever reads it
        return looks_like_card(body.decode("utf-8", "replace"))
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = (await value.read()).decode("utf-8", "replace")
                if pair_offends(key, "") or looks_like_card(content):
                    return True
            elif pair_offends(key, value):
                return True
        return False
    finally:
        await form.close()


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1").lower())
    return ""


async def _refusal(scope: Scope) -> Response:
    """JSON for the API and scripts, the error page for a browser."""
    return await handle_troth_error(Request(scope), Unprocessable(REFUSAL))
