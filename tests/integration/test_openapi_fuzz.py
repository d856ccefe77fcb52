"""Schemathesis against the live app, logged in as an aide and as a teacher.

Every /api operation of the OpenAPI document is called with generated requests (valid
and invalid ones, and valid ones aimed at records in the caller's scope) and with one
request per access-matrix entry built for the caller's role, in and out of scope. A
response fails if it is a 5xx or breaks the document (an undocumented status, content
type, header or body shape). The run also fails unless every operation answered a 2xx
to each role that may call it: a fuzzer locked out by 401/403 cannot pass.

`make test` runs a fixed seed and few examples; `make fuzz` runs many with a new seed
(TANDEM_FUZZ_EXAMPLES, TANDEM_FUZZ_SEED). Embedded pass only: one PostgreSQL is enough.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.access.spec import Ctx, Entry, Req, Scope
from tests.integration.test_access_matrix import declared_entries
from tests.support.factories import PASSWORD, Classroom, Factory
from tests.support.servers import AppServer, free_port

pytestmark = pytest.mark.embedded_only

EXAMPLES = int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("TANDEM_FUZZ_SEED", "20261202"))
ROLES = ("aide", "teacher")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# A check raises a Failure, or a FailureGroup (a BaseExceptionGroup) for several at once.
CHECK_FAILED = (Exception, FailureGroup)
# Never generated: they end the caller's session or someone else's (the explicit
# logout uses a throwaway session; the others are the admin's, refused to both roles).
NOT_FUZZED = {
    ("POST", "/api/auth/logout"),
    ("POST", "/api/admin/devices/{device_id}/revoke"),
    ("POST", "/api/admin/users/{user_id}/role"),
    ("POST", "/api/admin/users/{user_id}/deactivate"),
}
# Subscriptions are checked, never sent to, here: a loopback "push service" is enough.
PUSH_HOST = f"127.0.0.1:{free_port()}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _push_subscription() -> dict[str, Any]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": f"http://{PUSH_HOST}/push/{secrets.token_urlsafe(8)}",
        "keys": {"p256dh": _b64(point), "auth": _b64(os.urandom(16))},
    }


@pytest.fixture(scope="module")
def fuzz_server(database_url: str) -> Iterator[AppServer]:
    server = AppServer(
        database_url,
        extra_env={
            "TANDEM_PUSH_ALLOWED_HOSTS": PUSH_HOST,
            "TANDEM_PUSH_ALLOW_INSECURE_LOCAL": "1",
        },
    ).start()
    yield server
    server.stop()


def _browser(base_url: str) -> requests.Session:
    """A session holding the CSRF cookie, like a browser that opened the login page."""
    session = requests.Session()
    session.get(base_url + "/login", timeout=30)
    assert session.cookies.get("tandem_csrf"), "no CSRF cookie"
    return session


def _logged_in(base_url: str, email: str) -> requests.Session:
    session = _browser(base_url)
    r = session.post(
        base_url + "/api/auth/login",
        json={"email": email, "password": PASSWORD},
        headers=_csrf(session),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return session


def _csrf(session: requests.Session) -> dict[str, str]:
    return {"x-csrf-token": str(session.cookies.get("tandem_csrf"))}


def _path_parameters(template: str, url: str) -> dict[str, str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, urlsplit(url).path)
    assert match, (template, url)
    return match.groupdict()


class Run:
    """One role's fuzzing run: its session, what got a 2xx, what failed."""

    def __init__(self, base_url: str, schema: Any, classroom: Classroom, role: str) -> None:
        self.base_url = base_url
        self.schema = schema
        self.classroom = classroom
        self.role = role
        self.session = _logged_in(base_url, classroom.by_role(role).email)
        self.succeeded: set[str] = set()
        self.failures: list[str] = []
        self.client_id: str | None = None

    def send(self, case: Any, session: requests.Session | None = None) -> Any:
        session = session or self.session
        response = case.call(base_url=self.base_url, session=session, headers=_csrf(session))
        if 200 <= response.status_code < 300:
            self.succeeded.add(case.operation.label)
        case.validate_response(response, checks=CHECKS)
        return response

    def explicit(self, entry: Entry, sql: psycopg.Connection[Any], operation: Any) -> None:
        """The access matrix's request for this role, in scope (and out of it)."""
        may_call = self.role in entry.roles
        scopes: tuple[Scope, ...] = ("in", "out") if entry.scoped and may_call else ("none",)
        for scope in scopes:
            ctx = Ctx(
                classroom=self.classroom,
                factory=Factory(sql, school_id=self.classroom.student.school_id),
                sql=sql,
                role=self.role,
            )
            req, session = self._valid_request(entry, ctx, scope)
            case = operation.Case(
                path_parameters=_path_parameters(operation.path, req.url),
                body=req.json if req.json is not None else NOT_SET,
                media_type="application/json" if req.json is not None else None,
            )
            try:
                response = self.send(case, session)
            except CHECK_FAILED as exc:
                self.failures.append(f"{self.role} explicit {operation.label} ({scope}): {exc}")
                continue
            if may_call and scope != "out":
                expected: tuple[int, ...] = tuple(range(200, 300))
            else:
                expected = entry.expected(self.role, scope)
            if response.status_code not in expected:
                self.failures.append(
                    f"{self.role} explicit {operation.label} ({scope}): "
                    f"{response.status_code} {response.text[:200]!r}"
                )

    def _valid_request(
        self, entry: Entry, ctx: Ctx, scope: Scope
    ) -> tuple[Req, requests.Session | None]:
        # The matrix sends a wrong password, a refused push endpoint and a logout of the
        # shared session; here each gets a request that succeeds, on its own session.
        key = (entry.method, entry.path)
        email = self.classroom.by_role(self.role).email
        if key == ("POST", "/api/auth/login"):
            body = {"email": email, "password": PASSWORD}
            return Req(entry.path, json=body), _browser(self.base_url)
        if key == ("POST", "/api/auth/logout"):
            return Req(entry.path), _logged_in(self.base_url, email)
        if key == ("POST", "/api/push/subscriptions"):
            return Req(entry.path, json=_push_subscription()), None
        return entry.build(ctx, scope), None

    def _registered_client(self, case: Any) -> Any:
        if isinstance(case.body, dict):
            if self.client_id is None:
                r = self.session.post(
                    self.base_url + "/api/sync/clients",
                    json={"app_version": "fuzz"},
                    headers=_csrf(self.session),
                    timeout=30,
                )
                assert r.status_code == 201, r.text
                self.client_id = r.json()["client_id"]
            case.body["client_id"] = self.client_id
            case.body["protocol"] = 1
        return case

    def fuzz(self, operation: Any, valid_path: dict[str, str] | None) -> None:
        strategies = [
            operation.as_strategy(),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]
        if valid_path:
            strategies.append(operation.as_strategy(path_parameters=valid_path))
        if (operation.method.upper(), operation.path) == ("POST", "/api/sync"):
            # Past the envelope: a client of this user and the protocol this server
            # speaks, so generated ops and cursors reach the sync engine.
            strategies.append(operation.as_strategy().map(self._registered_client))

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=st.one_of(*strategies))
        def run(case: Any) -> None:
            self.send(case)

        try:
            run()
        except CHECK_FAILED as exc:
            self.failures.append(f"{self.role} {operation.label} (seed {SEED}): {exc}")


@pytest.fixture(scope="module")
def fuzz_classroom(database_url: str) -> Classroom:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return Factory(conn).classroom()


@pytest.mark.parametrize("role", ROLES)
def test_fuzzing_the_api_finds_no_5xx_and_no_broken_contract(
    role: str,
    fuzz_server: AppServer,
    fuzz_classroom: Classroom,
    sql: psycopg.Connection[Any],
) -> None:
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(fuzz_server.base_url + "/schema/openapi.json")
    operations: dict[tuple[str, str], Any] = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema does not load: {result}"
        operations[(result.ok().method.upper(), result.ok().path)] = result.ok()
    entries = {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", path)): entry
        for (method, path), entry in declared_entries().items()
        if path.startswith("/api/")
    }
    assert set(operations) == set(entries), "the schema and the access matrix disagree"
    run = Run(fuzz_server.base_url, schema, fuzz_classroom, role)

    valid_paths: dict[tuple[str, str], dict[str, str]] = {}
    for key, operation in sorted(operations.items()):
        entry = entries[key]
        run.explicit(entry, sql, operation)
        if operation.path_parameters and role in entry.roles:
            ctx = Ctx(fuzz_classroom, Factory(sql, fuzz_classroom.student.school_id), sql, role)
            valid_paths[key] = _path_parameters(operation.path, entry.build(ctx, "in").url)
    for key, operation in sorted(operations.items()):
        if key not in NOT_FUZZED:
            run.fuzz(operation, valid_paths.get(key))

    never_ok = sorted(
        op.label
        for key, op in operations.items()
        if role in entries[key].roles and op.label not in run.succeeded
    )
    elapsed = time.monotonic() - started
    # First: a fuzzer locked out by 401/403 sees no failures, but no 2xx either.
    assert not never_ok, f"no 2xx as {role} for: {never_ok}"
    assert not run.failures, f"{len(run.failures)} failures:\n" + "\n\n".join(run.failures)
    # Nothing the fuzzer sent ended its own session.
    me = run.session.get(fuzz_server.base_url + "/api/me", timeout=30)
    assert me.status_code == 200, me.text
    print(f"fuzzed as {role}: seed {SEED}, {EXAMPLES} examples per operation, {elapsed:.1f} s")
