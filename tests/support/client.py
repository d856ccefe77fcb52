"""An HTTP client that behaves like the app's pages: it keeps cookies and sends the CSRF
token on every state-changing request."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import PASSWORD


class ApiClient(httpx.Client):
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("follow_redirects", False)
        super().__init__(base_url=base_url, **kwargs)
        self.csrf_disabled = False

    def csrf(self) -> str:
        token = self.cookies.get("tandem_csrf")
        if token is None:
            self.get("/healthz")
            self.get("/login")
            token = self.cookies.get("tandem_csrf")
        assert token, "the app did not set a CSRF cookie"
        return str(token)

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        if method.upper() not in ("GET", "HEAD", "OPTIONS") and not self.csrf_disabled:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("x-csrf-token", self.csrf())
            kwargs["headers"] = headers
        return super().request(method, url, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response


def client_from(base_url: str, address: str) -> ApiClient:
    """A browser at another client address (any 127.x.y.z reaches the app on loopback),
    so per-address login limits can be told apart in one test."""
    return ApiClient(base_url, transport=httpx.HTTPTransport(local_address=address))
