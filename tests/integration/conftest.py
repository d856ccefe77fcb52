"""Fixtures of the integration tests that need more than one module."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.support.servers import AppServer

# ---------------------------------------------------------------------------------------
# A second app server: low per-address and per-account login limits, and SMTP pointed at a
# local sink.


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive one message per connection."""

    received: list[str]

    def handle(self) -> None:
        self.wfile.write(b"220 sink ESMTP\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b""):
                        break
                    chunks.append(data.decode("utf-8", "replace"))
                type(self).received.append("".join(chunks))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[tuple[int, list[str]]]:
    received: list[str] = []
    handler = type("Sink", (_SmtpSink,), {"received": received})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def strict_server(database_url: str, smtp_sink: tuple[int, list[str]]) -> Iterator[AppServer]:
    server = AppServer(
        database_url,
        extra_env={
            "TANDEM_LOGIN_LIMIT_ADDRESS": "4",
            "TANDEM_LOGIN_LIMIT_ACCOUNT_CEILING": "6",
            "TANDEM_SMTP_URL": f"smtp://127.0.0.1:{smtp_sink[0]}",
            "TANDEM_MAIL_FROM": "tandem@school.example",
        },
    ).start()
    yield server
    server.stop()
