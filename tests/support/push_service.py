"""A local Web Push service for tests and the push benchmark.

It stands where FCM or Mozilla's autopush would: an HTTP/1.1 server on 127.0.0.1 that
accepts what a push sender POSTs to a subscription endpoint, checks the VAPID
Authorization (ES256 JWT verified against the key in `k=`, with aud, exp and sub
claims), and really decrypts the aes128gcm body with the subscription's private key and
auth secret, as the browser would. Each subscription can be told how to answer: 201,
404, 410, 429 with Retry-After, 413, a redirect, or to hang without answering.

In tests it runs in a thread (PushService().start()); the benchmark runs it in its own
process with `python -m tests.support.push_service --keys FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import secrets
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_BODY = 4096 + 100  # the push protocol's limit on an encrypted message
REASONS = {
    200: "OK",
    201: "Created",
    301: "Moved",
    302: "Found",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Error",
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class LocalSubscription:
    """What the browser would hold: the endpoint and the keys it hands to the app."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        return b64(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64(self.auth_secret)

    def as_json(self) -> dict[str, Any]:
        """The shape of PushSubscription.toJSON()."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


@dataclass
class Behaviour:
    status: int = 201
    retry_after: str | None = None
    location: str | None = None
    hang: bool = False


@dataclass
class Received:
    token: str
    status: int  # what we answered
    headers: dict[str, str]
    payload: dict[str, Any] | None
    vapid_key: str | None
    claims: dict[str, Any] | None
    error: str | None
    at: float = field(default_factory=time.time)

    @property
    def topic(self) -> str | None:
        return self.headers.get("topic")


class VapidError(ValueError):
    pass


def verify_vapid(
    authorization: str, *, audience: str, expected_key: str | None
) -> tuple[str, dict[str, Any]]:
    """Check an RFC 8292 `vapid t=<jwt>, k=<key>` header; returns (key, claims)."""
    if not authorization.lower().startswith("vapid "):
        raise VapidError("Authorization is not a vapid token")
    params: dict[str, str] = {}
    for part in authorization[6:].split(","):
        name, _, value = part.strip().partition("=")
        params[name.strip()] = value.strip()
    token, key_text = params.get("t"), params.get("k")
    if not token or not key_text:
        raise VapidError("vapid t= or k= missing")
    if expected_key is not None and key_text != expected_key:
        raise VapidError("unknown application server key")
    try:
        head_b64, claims_b64, sig_b64 = token.split(".")
        header = json.loads(unb64(head_b64))
        claims = json.loads(unb64(claims_b64))
        signature = unb64(sig_b64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key_text))
    except (ValueError, TypeError) as exc:
        raise VapidError(f"malformed token: {exc}") from None
    if header.get("alg") != "ES256" or len(signature) != 64:
        raise VapidError("token is not ES256")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, f"{head_b64}.{claims_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError("bad signature") from None
    now = time.time()
    if claims.get("aud") != audience:
        raise VapidError(f"aud {claims.get('aud')!r} is not {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        raise VapidError("exp missing, past, or more than 24 h ahead")
    sub = claims.get("sub", "")
    if not isinstance(sub, str) or not (sub.startswith("mailto:") or sub.startswith("https:")):
        raise VapidError("sub must be a mailto: or https: contact")
    return key_text, claims


class PushService:
    """The server; thread-safe records of what it received."""

    def __init__(
        self,
        *,
        expected_vapid_key: str | None = None,
        hang_s: float = 60.0,
        record: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.expected_vapid_key = expected_vapid_key
        self.tls = tls
        self.hang_s = hang_s
        self.record = record
        self.port = 0
        self.subscriptions: dict[str, LocalSubscription] = {}
        self.behaviours: dict[str, list[Behaviour]] = {}
        self.received: list[Received] = []
        self.counts = {"ok": 0, "errors": 0}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None

    # -- control ------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def host_entry(self) -> str:
        """The entry for settings.push_allowed_hosts."""
        return f"127.0.0.1:{self.port}"

    def new_subscription(self) -> LocalSubscription:
        token = secrets.token_urlsafe(16)
        sub = LocalSubscription(
            token,
            f"{self.origin}/push/{token}",
            ec.generate_private_key(ec.SECP256R1()),
            secrets.token_bytes(16),
        )
        self.add(sub)
        return sub

    def add(self, sub: LocalSubscription) -> None:
        with self._lock:
            self.subscriptions[sub.token] = sub

    def respond(self, sub: LocalSubscription, *behaviours: Behaviour) -> None:
        """Answer the next requests to `sub` with these, in order (then 201)."""
        with self._lock:
            self.behaviours[sub.token] = list(behaviours)

    def received_for(self, sub: LocalSubscription) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.token == sub.token]

    def wait_for(
        self, sub: LocalSubscription, count: int = 1, timeout: float = 10
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received_for(sub)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"push service got {len(self.received_for(sub))} of {count} pushes")

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> PushService:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._stopping = asyncio.Event()
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_until_complete(self._stopping.wait())
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="push-service", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("push service did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    async def serve_forever(self, port: int) -> None:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        print(json.dumps({"port": self.port}), flush=True)
        await self._stopping.wait()

    # -- HTTP -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    break
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length > MAX_BODY:
                    await self._reply(writer, 413)
                    break
                body = await reader.readexactly(length) if length else b""
                status, extra = await self._dispatch(method, target, headers, body)
                if status == 0:  # hang
                    break
                await self._reply(writer, status, extra)
                if headers.get("connection", "").lower() == "close":
                    break
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            pass
        finally:
            writer.close()

    async def _reply(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        extra: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def _dispatch(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str]]:
        if method == "GET" and target == "/stats":
            return 200, {"X-Ok": str(self.counts["ok"]), "X-Errors": str(self.counts["errors"])}
        if method != "POST" or not target.startswith("/push/"):
            return 404, {}
        token = target[len("/push/") :]
        with self._lock:
            sub = self.subscriptions.get(token)
            queue = self.behaviours.get(token)
            behaviour = queue.pop(0) if queue else Behaviour()
        if sub is None:
            return 404, {}
        if behaviour.hang:
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.hang_s)
            self._note(Received(token, 0, headers, None, None, None, "hung"))
            return 0, {}
        status, payload, key, claims, error = self._check(sub, headers, body)
        if error is None:
            status = behaviour.status
        extra: dict[str, str] = {}
        if status == 201:
            extra["Location"] = f"{self.origin}/message/{secrets.token_urlsafe(8)}"
        if behaviour.retry_after is not None:
            extra["Retry-After"] = behaviour.retry_after
        if behaviour.location is not None:
            extra["Location"] = behaviour.location
        self._note(Received(token, status, headers, payload, key, claims, error))
        return status, extra

    def _note(self, received: Received) -> None:
        with self._lock:
            self.counts["errors" if received.error else "ok"] += 1
            if self.record:
                self.received.append(received)

    def _check(
        self, sub: LocalSubscription, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | None, str | None, dict[str, Any] | None, str | None]:
        try:
            key, claims = verify_vapid(
                headers.get("authorization", ""),
                audience=self.origin,
                expected_key=self.expected_vapid_key,
            )
        except VapidError as exc:
            return 401, None, None, None, f"vapid: {exc}"
        if headers.get("content-encoding") != "aes128gcm":
            return 400, None, key, claims, "content-encoding must be aes128gcm"
        if "ttl" not in headers or not headers["ttl"].isdigit():
            return 400, None, key, claims, "TTL header missing"
        topic = headers.get("topic")
        if topic is not None and (
            len(topic) > 32 or not all(c.isalnum() or c in "-_" for c in topic)
        ):
            return 400, None, key, claims, "Topic must be at most 32 base64url characters"
        try:
            plain = http_ece.decrypt(
                body, private_key=sub.private_key, auth_secret=sub.auth_secret, version="aes128gcm"
            )
            payload = json.loads(plain)
        except Exception as exc:  # any failure to decrypt is the sender's bug
            return 400, None, key, claims, f"decrypt: {type(exc).__name__}: {exc}"
        return 201, payload, key, claims, None


def self_signed_tls(directory: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only it) for a certificate of 127.0.0.1."""
    import datetime
    import ipaddress
    import os

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=cert_path)
    return server, client


def _serve_from_keys(path: str, port: int) -> None:
    """Benchmark mode: subscriptions from a JSON file {token: [private_raw_b64, auth_b64]}."""
    service = PushService(record=False)
    with open(path, encoding="utf-8") as f:
        keys = json.load(f)
    for token, (private_b64, auth_b64) in keys.items():
        private = ec.derive_private_key(int.from_bytes(unb64(private_b64), "big"), ec.SECP256R1())
        service.subscriptions[token] = LocalSubscription(token, "", private, unb64(auth_b64))
    asyncio.run(service.serve_forever(port))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="local push service (benchmark mode)")
    parser.add_argument("--keys", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        _serve_from_keys(args.keys, args.port)
    except KeyboardInterrupt:
        sys.exit(0)
