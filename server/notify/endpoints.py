"""Which push endpoints Tandem will ever POST to (SSRF defence).

A browser hands us any URL as its "push endpoint". We accept only HTTPS URLs on the
configured push-service hosts (settings.push_allowed_hosts: exact names or "*.suffix",
optionally with ":port"), never credentials in the URL, and never a name that resolves
to a private, loopback, link-local or otherwise non-public address. The test setting
push_allow_insecure_local additionally admits plain http to a loopback host, and only
when that host:port is itself listed (the local push service of the test suite).

check_static() runs at subscribe time; check_resolved() runs again before every send.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

MAX_ENDPOINT_LENGTH = 1024
LOOPBACK_NAMES = ("localhost",)


class EndpointRefused(ValueError):
    """The endpoint is not one we may send to; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    scheme: str
    host: str
    port: int
    insecure_local: bool

    @property
    def audience(self) -> str:
        """The VAPID aud claim: the push service's origin."""
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def _host_matches(pattern: str, host: str, port: int, default_port: int) -> bool:
    want_port = default_port
    name = pattern.lower()
    if name.count(":") == 1:  # "host:port" (IPv6 literals are not allow-list material)
        name, port_text = name.rsplit(":", 1)
        if not port_text.isdigit():
            return False
        want_port = int(port_text)
    if port != want_port:
        return False
    if name.startswith("*."):
        return host.endswith(name[1:]) and len(host) > len(name) - 1
    return host == name


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_static(
    url: str, *, allowed_hosts: tuple[str, ...], allow_insecure_local: bool
) -> Endpoint:
    """Refuse anything but an allowed push-service URL, without touching the network."""
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused("The push endpoint is too long.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EndpointRefused("The push endpoint is not a valid URL.") from None
    if "@" in parts.netloc:
        raise EndpointRefused("The push endpoint may not carry credentials.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise EndpointRefused("The push endpoint has no host.")
    if parts.scheme not in ("https", "http"):
        raise EndpointRefused("The push endpoint must use HTTPS.")
    port = port or (443 if parts.scheme == "https" else 80)
    insecure_local = _check_origin(parts.scheme, host, port, allowed_hosts, allow_insecure_local)
    return Endpoint(
        url=url, scheme=parts.scheme, host=host, port=port, insecure_local=insecure_local
    )


@lru_cache(maxsize=1024)
def _check_origin(
    scheme: str, host: str, port: int, allowed_hosts: tuple[str, ...], allow_insecure_local: bool
) -> bool:
    """The origin's verdict (a fan-out sends to thousands of URLs on a few origins, so it
    is memoised; refusals raise and are not cached). True: the local test service."""
    default_port = 443 if scheme == "https" else 80
    listed = any(_host_matches(p, host, port, default_port) for p in allowed_hosts)
    insecure_local = False
    if scheme == "http":
        if not (allow_insecure_local and listed and _is_loopback(host)):
            raise EndpointRefused("The push endpoint must use HTTPS.")
        insecure_local = True
    if not listed:
        raise EndpointRefused("The push endpoint is not on a known push service.")
    literal: str | None = None
    try:
        literal = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    if literal is not None and not insecure_local and not _is_public(literal):
        raise EndpointRefused("The push endpoint points to a private address.")
    return insecure_local


async def check_resolved(endpoint: Endpoint) -> None:
    """Refuse an endpoint whose host now resolves to a non-public address."""
    if endpoint.insecure_local:
        return  # listed loopback test service, admitted by check_static
    key = (endpoint.host, endpoint.port)
    checked = _resolved_ok.get(key)
    if checked is not None and time.monotonic() - checked < RESOLVE_CACHE_S:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except OSError:
        raise EndpointRefused("The push service's host name does not resolve.") from None
    for info in infos:
        address = str(info[4][0])
        if not _is_public(address):
            _resolved_ok.pop(key, None)
            raise EndpointRefused("The push endpoint resolves to a private address.")
    _resolved_ok[key] = time.monotonic()


# A push service's host that resolved to public addresses is trusted for a minute (a
# fan-out to thousands of endpoints on one host resolves it once).
RESOLVE_CACHE_S = 60.0
_resolved_ok: dict[tuple[str, int], float] = {}


async def check(
    url: str, *, allowed_hosts: tuple[str, ...], allow_insecure_local: bool
) -> Endpoint:
    endpoint = check_static(
        url, allowed_hosts=allowed_hosts, allow_insecure_local=allow_insecure_local
    )
    await check_resolved(endpoint)
    return endpoint
