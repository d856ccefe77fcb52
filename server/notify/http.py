"""A small HTTP/1.1 client for one job: POST an encrypted message to a push service.

Why not a general client: a fan-out is thousands of tiny POSTs to a handful of hosts,
and a general client's per-request machinery cost more CPU than the encryption itself
(bench/README.md). This one keeps a few keep-alive connections per origin and does only
what the push protocol needs, with the safety rules built in rather than configured:

- it never follows a redirect (a 3xx is returned to the caller like any status);
- it reads no proxy settings from the environment;
- HTTPS is verified with the system trust store (ssl.create_default_context());
- every request has a total deadline; a connection that timed out or misbehaved is
  closed, never reused;
- at most `max_response_bytes` of a response body are read (push services answer with
  an empty or tiny body); a larger one ends the connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 16 * 1024


class PushHTTPError(Exception):
    """The exchange failed below HTTP (connection, protocol); the message says how."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False

    def close(self) -> None:
        self.writer.close()


class PushHTTPClient:
    def __init__(
        self,
        *,
        timeout_s: float,
        max_per_origin: int = 16,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = 64 * 1024,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_per_origin = max_per_origin
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.max_response_bytes = max_response_bytes
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._gates: dict[tuple[str, str, int], asyncio.Semaphore] = {}

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str]]:
        """(status, lower-cased response headers). Raises TimeoutError or PushHTTPError."""
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        key = (scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        name = f"[{host}]" if ":" in host else host
        host_header = name if port == (443 if scheme == "https" else 80) else f"{name}:{port}"
        lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}", f"Content-Length: {len(body)}"]
        for name, value in headers.items():
            if any(c in name or c in value for c in "\r\n"):
                raise PushHTTPError("header with a line break")
            lines.append(f"{name}: {value}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        gate = self._gates.setdefault(key, asyncio.Semaphore(self.max_per_origin))
        # The deadline starts once a connection slot is ours: waiting behind a slow
        # push in a fan-out is not this message's timeout.
        async with gate:
            return await self._exchange(key, request)

    async def _exchange(
        self, key: tuple[str, str, int], request: bytes
    ) -> tuple[int, dict[str, str]]:
        async with asyncio.timeout(self.timeout_s):
            for attempt in (1, 2):
                conn = await self._connection(key)
                try:
                    conn.writer.write(request)
                    await conn.writer.drain()
                    status, response_headers, keep = await self._response(conn)
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    conn.close()
                    # A kept-alive connection the server had already closed: it never
                    # saw this request, so it is sent once more on a fresh connection.
                    if conn.reused and attempt == 1:
                        continue
                    raise PushHTTPError(f"connection failed: {type(exc).__name__}") from None
                except (asyncio.LimitOverrunError, ValueError, PushHTTPError) as exc:
                    conn.close()
                    raise PushHTTPError(f"bad response: {exc}") from None
                except BaseException:
                    conn.close()  # timeout or cancellation mid-exchange
                    raise
                if keep:
                    conn.reused = True
                    self._idle.setdefault(key, []).append(conn)
                else:
                    conn.close()
                return status, response_headers
        raise PushHTTPError("unreachable")

    async def _connection(self, key: tuple[str, str, int]) -> _Connection:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()
        scheme, host, port = key
        try:
            if scheme == "https":
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self.ssl_context, server_hostname=host, limit=MAX_HEADER_BYTES
                )
            else:
                reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEADER_BYTES)
        except (OSError, ssl.SSLError) as exc:
            raise PushHTTPError(f"cannot connect: {type(exc).__name__}") from None
        return _Connection(reader, writer)

    async def _response(self, conn: _Connection) -> tuple[int, dict[str, str], bool]:
        while True:
            head = await conn.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            version, _, rest = lines[0].partition(" ")
            if not version.startswith("HTTP/1."):
                raise PushHTTPError("not an HTTP/1.x response")
            status = int(rest[:3])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200:
                continue  # interim response: the real one follows
            break
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await self._discard_chunked(conn.reader)
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if length > self.max_response_bytes:
                raise PushHTTPError("response body too large")
            await conn.reader.readexactly(length)
        else:
            # Delimited by the end of the connection: read a little, never reuse it.
            await conn.reader.read(self.max_response_bytes)
            keep = False
        return status, headers, keep

    async def _discard_chunked(self, reader: asyncio.StreamReader) -> None:
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            total += size
            if total > self.max_response_bytes:
                raise PushHTTPError("response body too large")
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return
            await reader.readexactly(size + 2)
