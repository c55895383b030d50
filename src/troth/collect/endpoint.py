"""`POST /api/collect` and `GET /p.gif`, answered before the web framework sees them.

This is the hottest path in Troth, so it is a bare ASGI layer in front of the app: parse,
check the site (SC1), run the pipeline, append to this process's journal, answer 202 once
the journal has fsynced the batch. Everything else passes through to FastAPI. In front of the
server's app it reads X-Forwarded-For itself (`forwarded.py`), so a hit skips uvicorn's
proxy-headers layer too.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from troth.collect.event import Hit, RequestContext
from troth.collect.forwarded import TrustedProxies
from troth.collect.journal import JournalWriter
from troth.collect.parse import MAX_BODY_BYTES, BadHit, parse_body, parse_query
from troth.collect.pipeline import OutOfScope, Pipeline
from troth.collect.sites import Sites
from troth.comms.opens import MessageTokens, record_open_now
from troth.runtime import Runtime

log = logging.getLogger(__name__)

COLLECT_PATH = "/api/collect"
PIXEL_PATH = "/p.gif"
# The smallest transparent 1x1 GIF.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
Headers = list[tuple[bytes, bytes]]
BASE_HEADERS: Headers = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]
"""On every answer with a body. The 202 has none and answers a POST, which no cache keeps, so
it carries only CORS and its length: uvicorn checks each header in Python, about a third of
a microsecond apiece."""
FORWARDED_FOR = b"x-forwarded-for"
WANTED_HEADERS = frozenset(
    (b"origin", b"user-agent", b"accept-language", b"sec-gpc", b"dnt", FORWARDED_FOR)
)
EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}
MAX_ORIGINS = 1024


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _request_headers(scope: Scope) -> dict[bytes, bytes]:
    """The headers the collector reads, found in one pass (names arrive lower-cased)."""
    found: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        if key in WANTED_HEADERS:
            if key == FORWARDED_FOR and key in found:  # each proxy's header, in order
                value = found[key] + b", " + value
            found[key] = value
    return found


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _cors(origin: bytes) -> Headers:
    """CORS headers for a covered site's page (none for a request without an Origin)."""
    if not origin:
        return []
    return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]


async def _respond(send: Send, status: int, headers: Headers, body: bytes = b"") -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})


class CollectEndpoint:
    def __init__(
        self, app: ASGIApp, runtime: Runtime, proxies: TrustedProxies | None = None
    ) -> None:
        """`proxies`: read X-Forwarded-For here, from these proxies; None where the server
        has already put the visitor's address in the scope (uvicorn's proxy headers)."""
        self.app = app
        self.runtime = runtime
        self.proxies = proxies
        self.pipeline = Pipeline.for_runtime(runtime)
        self._journal: JournalWriter | None = None
        self._message_tokens: MessageTokens | None = None
        # The 202 answer per Origin header (None: an origin the policy does not cover), so a
        # hit from a known page costs one dict look-up; emptied when the declaration changes.
        self._accepted: dict[bytes, Message | None] = {}
        self._accepted_sites: Sites | None = None

    @property
    def journal(self) -> JournalWriter:
        if self._journal is None:  # created in the serving process, on its event loop
            self._journal = JournalWriter(self.runtime.settings.data_dir / "collect" / "journal")
        return self._journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or path not in (COLLECT_PATH, PIXEL_PATH):
            await self.app(scope, receive, send)
            return
        headers = _request_headers(scope)
        origin = headers.get(b"origin", b"")
        try:
            if path == COLLECT_PATH:
                await self._collect(scope, receive, send, headers, origin)
            else:
                await self._pixel(scope, send, headers)
        except Refused as refused:
            body = orjson.dumps({"detail": refused.message})
            covered = path == COLLECT_PATH and self._accepted.get(origin) is not None
            cors = _cors(origin) if covered else []
            headers_out = [*BASE_HEADERS, *cors, (b"content-type", b"application/json")]
            await _respond(send, refused.status, headers_out, body)

    def _accepted_answer(self, origin: bytes) -> Message | None:
        """The 202 start message for this Origin, or None when CORS must refuse it (SC1)."""
        sites = self.pipeline.sites
        if sites is not self._accepted_sites or len(self._accepted) >= MAX_ORIGINS:
            self._accepted, self._accepted_sites = {}, sites
        try:
            return self._accepted[origin]
        except KeyError:
            pass
        answer: Message | None = None
        if not origin or sites.covers_origin(origin.decode("latin-1")):
            headers = [*_cors(origin), (b"content-length", b"0")]
            answer = {"type": "http.response.start", "status": 202, "headers": headers}
        self._accepted[origin] = answer
        return answer

    async def _collect(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], origin: bytes
    ) -> None:
        accepted = self._accepted_answer(origin)
        if accepted is None:
            raise Refused(403, "this origin is not a site the privacy policy covers")
        method = scope["method"]
        if method == "OPTIONS":
            preflight = [
                (b"access-control-allow-methods", b"POST, OPTIONS"),
                (b"access-control-allow-headers", b"content-type"),
                (b"access-control-max-age", b"86400"),
            ]
            await _respond(send, 204, [*BASE_HEADERS, *_cors(origin), *preflight])
            return
        if method != "POST":
            raise Refused(405, "use POST to send events")
        try:
            hits = parse_body(await _body(receive))
        except BadHit as bad:
            raise Refused(400, str(bad)) from None
        await self._store(scope, headers, hits)
        await send(accepted)
        await send(EMPTY_BODY)

    async def _pixel(self, scope: Scope, send: Send, headers: dict[bytes, bytes]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise Refused(405, "the pixel answers GET")
        raw = scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(raw, keep_blank_values=True))
        if "m" in query:
            await self._email_open(query["m"])
        else:
            try:
                hit = parse_query(query)
            except BadHit as bad:
                raise Refused(400, str(bad)) from None
            await self._store(scope, headers, [hit])
        await _respond(send, 200, [*BASE_HEADERS, (b"content-type", b"image/gif")], PIXEL)

    async def _email_open(self, token: str) -> None:
        """/p.gif?m=<message token> (CO5): only the signature is checked here; whether the
        open may be counted is asked of the database off the event loop (opens are rare)."""
        if self._message_tokens is None:
            self._message_tokens = MessageTokens.of(self.runtime.keys)
        message_id = self._message_tokens.message_of(token)
        if message_id is None:
            raise Refused(400, "'m' is not a message token this server made")
        await run_in_threadpool(record_open_now, self.runtime, message_id)

    def _client_ip(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        peer: str = (scope.get("client") or ("", 0))[0]
        forwarded = headers.get(FORWARDED_FOR)
        if self.proxies is None or forwarded is None:
            return peer
        return self.proxies.client(peer, forwarded.decode("latin-1"))

    async def _store(self, scope: Scope, headers: dict[bytes, bytes], hits: list[Hit]) -> None:
        context = RequestContext(
            client_ip=self._client_ip(scope, headers),
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
            accept_language=headers.get(b"accept-language", b"").decode("latin-1"),
            gpc=headers.get(b"sec-gpc") == b"1",
            dnt=headers.get(b"dnt") == b"1",
            now=dt.datetime.now(dt.UTC),
        )
        payloads = []
        for hit in hits:
            try:
                event = self.pipeline.process(hit, context)
            except OutOfScope as out:
                raise Refused(403, str(out)) from None
            if event is not None:
                payloads.append(orjson.dumps(event))
        if not payloads:
            return
        try:
            await self.journal.append(payloads)
        except OSError as exc:
            log.error("journal write failed: %s", type(exc).__name__)
            raise Refused(503, "events could not be stored; try again shortly") from None
