"""App-wide defences as plain ASGI middleware: body limits, raw-input checks, headers."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable

from server.asgi import ASGIApp, Message, Receive, Scope, Send
from server.bodies import body_kind, media_type_problem
from server.validation import raw_input_problem

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


async def _send_error(scope: Scope, send: Send, status: int, detail: str) -> None:
    headers_in = dict(scope.get("headers", []))
    accept = headers_in.get(b"accept", b"").decode("latin-1")
    path = scope.get("path", "")
    if "text/html" in accept and not path.startswith("/api/"):
        from html import escape

        body = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Error</title>"
            '<link rel=stylesheet href="/static/css/app.css">'
            f"<main class=page><h1>Request refused</h1><p>{escape(detail)}</p>"
            '<p><a class="btn" href="/">Back to the start page</a></p></main></html>'
        ).encode()
        ctype = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"status_code": status, "detail": detail}).encode()
        ctype = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", ctype),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class InputGuard:
    """Refuse oversized bodies (413, without buffering them whole), a body of a media type
    the route does not take (415, see server.bodies), NUL bytes, invalid UTF-8 and lone
    surrogates (400), in bodies and query strings, before any handler."""

    def __init__(self, app: ASGIApp, max_body: int, path_limits: dict[str, int]) -> None:
        self.app = app
        self.max_body = max_body
        self.path_limits = path_limits

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.path_limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["request_id"] = secrets.token_hex(8)
        problem = raw_input_problem(scope.get("query_string", b""), urlencoded=True)
        if problem is None:
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
            problem = raw_input_problem(raw_path, urlencoded=True)
        if problem:
            await _send_error(scope, send, 400, problem)
            return
        limit = self.limit_for(scope["path"])
        content_types = []
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                content_types.append(value.lower())
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(scope, send, 400, "Invalid Content-Length header.")
                    return
                if declared > limit:
                    await _send_error(
                        scope, send, 413, f"The request body is too large (limit {limit} bytes)."
                    )
                    return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if len(content_types) > 1:
            # Litestar's parts would not agree on which one counts.
            await _send_error(scope, send, 400, "More than one Content-Type header.")
            return
        content_type = content_types[0] if content_types else b""
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                await _send_error(
                    scope, send, 413, f"The request body is too large (limit {limit} bytes)."
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        # Litestar puts the route's handler in the scope before any middleware runs.
        kind = body_kind(scope["route_handler"])
        if body:
            problem = media_type_problem(kind, content_type)
            if problem:
                await _send_error(scope, send, 415, problem)
                return
        problem = raw_input_problem(body, urlencoded=kind == "form")
        if problem:
            await _send_error(scope, send, 400, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


def security_headers_hook(hsts: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A before-send hook: it sees every response, error responses raised by middleware
    (CSRF, auth) included. CSP without inline script, nosniff, referrer policy, HSTS over
    TLS, and no-store on everything dynamic (static files keep their cache headers)."""

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path: str = scope.get("path", "")
        is_static = path.startswith("/static/") or path in ("/sw.js", "/manifest.webmanifest")
        headers = message.setdefault("headers", [])
        present = {bytes(h[0]).lower() for h in headers}
        extra = [*SECURITY_HEADERS, HSTS] if hsts else SECURITY_HEADERS
        if not is_static and b"cache-control" not in present:
            extra = [*extra, (b"cache-control", b"no-store")]
        headers.extend(h for h in extra if h[0] not in present)

    return add_headers
