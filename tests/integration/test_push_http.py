"""The push HTTP client (server/notify/http.py) on real sockets: HTTPS verified against
the trust store it is given, keep-alive reuse, a connection the server closed while
idle, chunked and oversized answers, redirects returned rather than followed."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Iterator

import pytest

from server.notify.http import PushHTTPClient, PushHTTPError
from server.notify.sender import PushSender, Subscription
from server.notify.vapid import VapidSigner, new_private_key_text
from tests.support.push_service import PushService, self_signed_tls


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return self_signed_tls(str(tmp_path_factory.mktemp("tls")))


@pytest.fixture(scope="module")
def tls_service(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[PushService]:
    service = PushService(tls=tls[0]).start()
    yield service
    service.stop()


def test_https_push_is_verified_and_decrypted(
    tls: tuple[ssl.SSLContext, ssl.SSLContext], tls_service: PushService
) -> None:
    signer = VapidSigner(new_private_key_text(), "mailto:t@localhost")
    tls_service.expected_vapid_key = signer.public_key
    sender = PushSender(signer, allowed_hosts=(), allow_insecure_local=False, timeout_s=5)
    sub = tls_service.new_subscription()
    assert sub.endpoint.startswith("https://")
    body, headers = sender.prepare(
        Subscription(sub.endpoint, sub.p256dh, sub.auth),
        b'{"id": "x"}',
        audience=tls_service.origin,
        topic="x",
    )

    async def go() -> list[int]:
        trusted = PushHTTPClient(timeout_s=5, ssl_context=tls[1])
        statuses = [(await trusted.post(sub.endpoint, body, headers))[0] for _ in range(3)]
        assert len(trusted._idle[("https", "127.0.0.1", tls_service.port)]) == 1  # one kept alive
        await trusted.aclose()
        default = PushHTTPClient(timeout_s=5)  # the system store does not know this cert
        with pytest.raises(PushHTTPError, match="cannot connect"):
            await default.post(sub.endpoint, body, headers)
        return statuses

    assert asyncio.run(go()) == [201, 201, 201]
    got = tls_service.received_for(sub)
    assert [r.error for r in got] == [None, None, None]
    assert got[0].payload == {"id": "x"}


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.base_events.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/push/t"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    return await reader.readexactly(length)


def test_chunked_answer_then_a_connection_closed_while_idle_is_retried_fresh() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        await writer.drain()
        writer.close()  # keep-alive promised, then closed while idle

    async def go() -> list[int]:
        server, url = await serve(handler)
        client = PushHTTPClient(timeout_s=5)
        first = await client.post(url, b"one", {})
        await asyncio.sleep(0.05)
        second = await client.post(url, b"two", {})  # the stale one is noticed, a fresh one used
        await client.aclose()
        server.close()
        return [first[0], second[0]]

    assert asyncio.run(go()) == [201, 201]
    assert connections == 2


def test_redirects_are_returned_and_big_bodies_refused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = await read_request(reader)
        if body == b"redirect":
            writer.write(
                b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:5432/\r\nContent-Length: 0\r\n\r\n"
            )
        else:
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 1000000\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()

    async def go() -> tuple[int, str]:
        server, url = await serve(handler)
        client = PushHTTPClient(timeout_s=5, max_response_bytes=1024)
        status, headers = await client.post(url, b"redirect", {})
        with pytest.raises(PushHTTPError, match="too large"):
            await client.post(url, b"big", {})
        await client.aclose()
        server.close()
        return status, headers["location"]

    assert asyncio.run(go()) == (307, "http://127.0.0.1:5432/")


def test_no_answer_times_out_and_header_injection_is_refused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    async def go() -> None:
        server, url = await serve(handler)
        client = PushHTTPClient(timeout_s=0.3)
        with pytest.raises(TimeoutError):
            await client.post(url, b"x", {})
        with pytest.raises(PushHTTPError, match="line break"):
            await client.post(url, b"x", {"Topic": "a\r\nX-Evil: 1"})
        await client.aclose()
        server.close()

    asyncio.run(go())
