"""Every state-changing route, from the app's own route table, refuses a body it does not
take before anything decodes it: a JSON route anything but application/json (415), a form
route anything but a url-encoded form (415), a route without a body any body (415); and
deeply nested or NUL-bearing bodies of the right type with 400. A new route is covered
without being listed here. The requests are anonymous but carry a CSRF token, as anyone
can get one: the refusal must not depend on the login or CSRF layers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from litestar.routes import HTTPRoute

from server.bodies import BodyKind, body_kind
from tests.support.client import ApiClient

DEEP_JSON = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
NUL_JSON = b'{"email": "a\\u0000b@example.test", "password": "long\x00enough"}'
BOUNDARY = "tandem-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
PATH_VALUES = {"int": "1", "uuid": str(uuid.UUID(int=1)), "str": "x", "path": "x"}


def multipart(value: bytes) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="description"\r\n\r\n'.encode()
        + value
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def state_changing_routes() -> list[tuple[str, str, BodyKind]]:
    from server.app import create_app

    app = create_app(secret="request-bodies")
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"GET", "HEAD", "OPTIONS"}):
                found.append((method, route.path, body_kind(handler)))
    return sorted(found)


ROUTES = state_changing_routes()


def url(path: str) -> str:
    return re.sub(r"\{\w+:(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


@pytest.fixture(scope="module")
def anonymous(base_url: str) -> Iterator[ApiClient]:
    with ApiClient(base_url, headers={"accept": JSON}) as c:
        c.csrf()
        yield c


def test_the_route_table_knows_each_kind_of_body() -> None:
    kinds = {(method, path): kind for method, path, kind in ROUTES}
    assert kinds[("POST", "/api/auth/login")] == "json"
    assert kinds[("POST", "/api/sync")] == "json"
    assert kinds[("PATCH", "/api/goals/{goal_id:int}")] == "json"
    assert kinds[("POST", "/login")] == "form"
    assert kinds[("POST", "/teacher/ieps/{iep_id:int}/goals")] == "form"  # reads request.form()
    assert kinds[("POST", "/api/auth/logout")] == "none"
    assert len(kinds) == len(ROUTES) > 50


@pytest.mark.parametrize(("method", "path", "kind"), ROUTES, ids=lambda v: str(v))
def test_a_body_the_route_does_not_take_is_refused(
    anonymous: ApiClient, method: str, path: str, kind: BodyKind
) -> None:
    # (content type, body, expected status)
    cases: list[tuple[str | None, bytes, int]] = []
    for payload in (DEEP_JSON, NUL_JSON):
        foreign = [
            (FORM, payload, 415),
            (FORM, b"description=" + payload, 415),
            (MULTIPART, payload, 415),
            (MULTIPART, multipart(payload), 415),
            ("text/plain", payload, 415),
            (None, payload, 415),
            (JSON, payload, 415),
        ]
        if kind == "json":
            cases += [c for c in foreign if c[0] != JSON] + [(JSON, payload, 400)]
        elif kind == "form":
            cases += [c for c in foreign if c[0] != FORM]
        else:
            cases += foreign
    if kind == "form":
        cases += [(FORM, b"description=a%00b", 400), (FORM, b"description=a\x00b", 400)]
    failures = []
    for content_type, body, expected in cases:
        headers = {"content-type": content_type} if content_type else {}
        r = anonymous.request(method, url(path), content=body, headers=headers)
        if r.status_code != expected or not r.json()["detail"]:
            failures.append(f"{content_type} {body[:30]!r}: {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)
