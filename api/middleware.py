"""Pure ASGI middleware: the request body size limit, the JSON nesting limit, the public origin
of every request and `Vary: Accept` on every response (security headers: `api/security.py`)."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.error_handlers import error_response
from kg.errors import PayloadTooLargeError, UserError


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than the limit of {self.max_bytes} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                response = error_response(413, PayloadTooLargeError.code, message)
                await response(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the endpoint's body read, so the app's handler answers 413.
                    raise PayloadTooLargeError(message)
            return msg

        await self.app(scope, limited_receive, send)


Headers = list[tuple[bytes, bytes]]


class ResponseHeadersMiddleware:
    """Edit the headers of every HTTP response (pages, API, static files, errors, the body
    limit's 413) with `edit`, which gets the raw ASGI headers and returns the new list."""

    def __init__(self, app: ASGIApp, *, edit: Callable[[Headers], Headers]) -> None:
        self.app = app
        self.edit = edit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self.edit(list(message.get("headers", [])))}
            await send(message)

        await self.app(scope, receive, send_edited)


def with_vary_accept(headers: Headers) -> Headers:
    """`Vary: Accept` added unless already there: most routes negotiate their format."""
    vary = [v for k, v in headers if k.lower() == b"vary"]
    tokens = {t.strip() for v in vary for t in v.lower().split(b",")}
    return headers if tokens & {b"accept", b"*"} else [*headers, (b"vary", b"Accept")]


# Deeper JSON than this is refused before any parser sees it. Our bodies nest 3 levels
# (`{"queries": [{"filters": {…}}]}`); recursive parsers and validators must never meet
# 10,000 levels (RecursionError, stack use).
MAX_JSON_DEPTH = 64
# Outside strings: brackets and quotes; `\\.` keeps an escaped quote inside a string a string.
_JSON_TOKENS = re.compile(r'\\.|[\\"\[\]{}]', re.DOTALL)


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body of this type as JSON (`application/json`, `…+json`)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    kind, _, sub = media.partition("/")
    return kind == "application" and (sub == "json" or sub.endswith("+json"))


class JsonDepthScanner:
    """Tracks the `[`/`{` nesting depth of a JSON text fed in chunks, outside strings.

    Bytes are decoded first (UTF-8, or the UTF-16/32 that `json.loads` also detects), so a
    multi-byte character can never pass for a quote or a bracket.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False
        self._head = b""
        self._decoder: codecs.IncrementalDecoder | None = None

    def feed(self, chunk: bytes, final: bool = False) -> bool:
        """Scan the next chunk; False once the nesting went deeper than the limit."""
        if self._decoder is None:
            self._head += chunk
            if len(self._head) < 4 and not final:
                return True
            encoding = json.detect_encoding(self._head)
            self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
            chunk, self._head = self._head, b""
        return self._scan(self._decoder.decode(chunk, final))

    def _scan(self, text: str) -> bool:
        start = 0
        if self.escaped and text:
            start, self.escaped = 1, False
        for match in _JSON_TOKENS.finditer(text, start):
            token = match.group()
            if token == "\\":  # a backslash at the end of the chunk: skip the next character
                self.escaped = True
            elif token == '"':
                self.in_string = not self.in_string
            elif self.in_string or len(token) == 2:
                continue
            elif token in "[{":
                self.depth += 1
                if self.depth > self.limit:
                    return False
            else:
                self.depth -= 1
        return True


class JsonDepthMiddleware:
    """Refuse JSON request bodies nested deeper than `max_depth` with 400, while they stream in.

    The error is raised inside the endpoint's body read (like the body limit's 413), so the
    app's handlers answer it in the one error shape.
    """

    def __init__(self, app: ASGIApp, *, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                             if k == b"content-type"), None)
        if scope["type"] != "http" or not is_json(content_type):
            await self.app(scope, receive, send)
            return
        scanner = JsonDepthScanner(self.max_depth)

        async def scanned_receive() -> Message:
            msg = await receive()
            if msg["type"] == "http.request":
                final = not msg.get("more_body", False)
                if not scanner.feed(msg.get("body", b""), final):
                    raise UserError(f"the JSON body is nested deeper than {self.max_depth} "
                                    "levels")
            return msg

        await self.app(scope, scanned_receive, send)


class PublicOriginMiddleware:
    """Every request is taken as addressed to the configured public URL.

    Absolute URLs the app builds (`url_for`, trailing-slash redirects, the SPARQL service
    description, JSON-LD contexts) come from the request's scheme, `Host` header and server;
    they are set here from `public_url`, so a client's `Host` header never ends up in an
    answer (cache poisoning, links to a host of the client's choosing).
    """

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a public URL: {public_url!r}")
        default_port = 443 if parts.scheme == "https" else 80
        self.scheme = parts.scheme
        self.server = (parts.hostname, parts.port or default_port)
        self.host = parts.netloc.rpartition("@")[2].encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope.get("headers", []) if k != b"host"]
            scope = {**scope, "scheme": self.scheme, "server": self.server,
                     "headers": [(b"host", self.host), *headers]}
        await self.app(scope, receive, send)
