"""Accounts: login, session rotation, logout, CSRF, brute-force limits, revocation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg

from tests.support.client import ApiClient, client_from
from tests.support.factories import PASSWORD, Classroom, Factory
from tests.support.servers import AppServer


def test_login_lands_each_role_on_its_home(client_for: Any, classroom: Classroom) -> None:
    homes = {
        "admin": "/admin",
        "teacher": "/teacher",
        "provider": "/app",
        "aide": "/app",
        "parent": "/parent",
    }
    for role, home in homes.items():
        c = client_for(classroom.by_role(role))
        me = c.get("/api/me")
        assert me.status_code == 200
        assert me.json()["role"] == role
        assert me.json()["home"] == home
        assert c.get("/").headers["location"] == home


def test_form_login_redirects_home_and_wrong_password_says_the_same_as_unknown_email(
    client: ApiClient, factory: Factory
) -> None:
    teacher = factory.user("teacher")
    bad_known = client.post("/login", data={"email": teacher.email, "password": "wrong password"})
    bad_unknown = client.post(
        "/login", data={"email": "nobody@example.test", "password": "wrong password"}
    )
    assert bad_known.status_code == bad_unknown.status_code == 401
    assert "Email or password is incorrect." in bad_known.text
    assert "Email or password is incorrect." in bad_unknown.text
    api_known = client.post(
        "/api/auth/login", json={"email": teacher.email, "password": "nope nope"}
    )
    api_unknown = client.post(
        "/api/auth/login", json={"email": "x@example.test", "password": "nope nope"}
    )
    assert api_known.status_code == api_unknown.status_code == 401
    assert api_known.json() == api_unknown.json()
    ok = client.post(
        "/login", data={"email": teacher.email, "password": "correct horse battery staple"}
    )
    assert ok.status_code in (302, 303)
    assert ok.headers["location"] == "/teacher"


def test_planted_session_id_is_replaced_at_login(base_url: str, factory: Factory) -> None:
    aide = factory.user("aide")
    planted = "attacker-chosen-session-id-0123456789"
    with ApiClient(base_url) as c:
        c.cookies.set("tandem_session", planted, domain="127.0.0.1")
        c.login(aide.email)
        issued = c.cookies.get("tandem_session")
        assert issued
        assert issued != planted
    with ApiClient(base_url) as attacker:
        attacker.cookies.set("tandem_session", planted)
        assert attacker.get("/api/me").status_code == 401


def test_logout_invalidates_the_session_cookie(base_url: str, factory: Factory) -> None:
    aide = factory.user("aide")
    with ApiClient(base_url) as c:
        c.login(aide.email)
        stolen = c.cookies.get("tandem_session")
        assert c.post("/api/auth/logout").status_code == 200
    with ApiClient(base_url) as replay:
        replay.cookies.set("tandem_session", str(stolen))
        assert replay.get("/api/me").status_code == 401


def test_cross_site_post_without_csrf_token_is_refused(
    client_for: Any, classroom: Classroom
) -> None:
    c = client_for(classroom.aide)
    c.csrf_disabled = True
    r = c.post("/api/auth/logout", headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    form = c.post("/logout", data={"x": "1"})
    assert form.status_code == 403
    assert c.get("/api/me").status_code == 200  # still logged in: nothing changed


def test_login_rate_limit_per_account_ignores_spoofed_forwarded_for(
    base_url: str, factory: Factory
) -> None:
    victim = factory.user("teacher")
    with ApiClient(base_url) as c:
        statuses = []
        for i in range(8):
            r = c.post(
                "/api/auth/login",
                json={"email": victim.email, "password": f"guess number {i}"},
                headers={"x-forwarded-for": f"203.0.113.{i}"},
            )
            statuses.append(r.status_code)
        assert statuses[:5] == [401] * 5
        assert statuses[5:] == [429] * 3
        limited = c.post(
            "/api/auth/login",
            json={"email": victim.email, "password": "correct horse battery staple"},
            headers={"x-forwarded-for": "198.51.100.7"},
        )
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        unknown = [
            c.post("/api/auth/login", json={"email": "ghost@example.test", "password": "guess it"})
            for _ in range(6)
        ]
        assert unknown[-1].status_code == 429  # unknown accounts are limited the same way


def _at_once(clients: list[ApiClient], send: Callable[[ApiClient], httpx.Response]) -> list[int]:
    """Send one request from every client at the same moment; their statuses."""
    start = threading.Barrier(len(clients))

    def one(c: ApiClient) -> int:
        c.csrf()
        start.wait()
        return send(c).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(one, clients))


def _login(c: ApiClient, email: str, password: str) -> httpx.Response:
    return c.post("/api/auth/login", json={"email": email, "password": password})


def test_concurrent_correct_logins_of_one_account_all_succeed(
    base_url: str, factory: Factory
) -> None:
    # A class's tablets signing in to one account behind one school address.
    shared = factory.user("aide")
    tablets = [ApiClient(base_url) for _ in range(20)]
    try:
        statuses = _at_once(tablets, lambda c: _login(c, shared.email, PASSWORD))
    finally:
        for c in tablets:
            c.close()
    assert statuses == [200] * 20


def test_a_burst_of_parallel_guesses_is_counted_before_it_is_checked(
    base_url: str, factory: Factory
) -> None:
    victim = factory.user("teacher")
    guessers = [ApiClient(base_url) for _ in range(12)]
    try:
        statuses = _at_once(guessers, lambda c: _login(c, victim.email, "a parallel guess"))
    finally:
        for c in guessers:
            c.close()
    assert sorted(statuses) == [401] * 5 + [429] * 7


def test_wrong_guesses_lock_their_source_not_the_account_holder(
    base_url: str, factory: Factory
) -> None:
    victim = factory.user("teacher")
    with client_from(base_url, "127.0.0.1") as attacker:
        statuses = [_login(attacker, victim.email, f"guess {i}").status_code for i in range(7)]
        assert statuses == [401] * 5 + [429] * 2
        assert _login(attacker, victim.email, PASSWORD).status_code == 429
    # The holder, signing in from their own address, is not locked out by the stranger.
    with client_from(base_url, "127.0.0.2") as holder:
        assert _login(holder, victim.email, PASSWORD).status_code == 200


def test_behind_a_shared_address_the_holders_own_browser_still_signs_in(
    base_url: str, factory: Factory
) -> None:
    # Behind a reverse proxy every request comes from one address (here 127.0.0.1).
    victim = factory.user("teacher")
    with client_from(base_url, "127.0.0.1") as laptop:
        assert _login(laptop, victim.email, PASSWORD).status_code == 200
        assert laptop.post("/api/auth/logout").status_code == 200
        with client_from(base_url, "127.0.0.1") as stranger:
            statuses = [_login(stranger, victim.email, f"guess {i}").status_code for i in range(6)]
            assert statuses == [401] * 5 + [429]
            assert _login(stranger, victim.email, PASSWORD).status_code == 429
        # The browser the holder signed in with before keeps its own count.
        assert _login(laptop, victim.email, PASSWORD).status_code == 200


def test_each_failure_past_the_free_ones_doubles_the_wait_and_success_starts_afresh(
    base_url: str, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    user = factory.user("provider")
    source = f"login:source:{user.email}|127.0.0.3"

    def wait_over() -> None:  # stands for waiting out the block
        sql.execute("UPDATE rate_limit SET blocked_until = now() WHERE key = %s", (source,))

    with client_from(base_url, "127.0.0.3") as c:
        for i in range(5):
            assert _login(c, user.email, f"guess {i}").status_code == 401
        waits = []
        for i in range(3):
            limited = _login(c, user.email, "still guessing")
            assert limited.status_code == 429
            waits.append(int(limited.headers["retry-after"]))
            wait_over()
            assert _login(c, user.email, f"one more guess {i}").status_code == 401
        assert [round(w / 60) for w in waits] == [1, 2, 4]  # 60 s, then doubling
        wait_over()
        assert _login(c, user.email, PASSWORD).status_code == 200
        # The correct password cleared this source's run: five free failures again.
        assert [_login(c, user.email, "typo").status_code for _ in range(5)] == [401] * 5


def test_successful_logins_do_not_count_toward_the_address_limit(
    strict_server: AppServer, factory: Factory
) -> None:
    # strict_server: 4 failures per address.
    people = [factory.user("aide") for _ in range(6)]
    with client_from(strict_server.base_url, "127.0.0.4") as school:
        assert [_login(school, p.email, PASSWORD).status_code for p in people] == [200] * 6
        guesses = [_login(school, p.email, "wrong password").status_code for p in people[:5]]
        assert guesses == [401] * 4 + [429]


def test_the_account_ceiling_spares_the_holders_own_devices(
    strict_server: AppServer, factory: Factory
) -> None:
    # strict_server: at most 6 failures per account from all addresses in a window.
    base = strict_server.base_url
    victim = factory.user("teacher")
    with client_from(base, "127.0.0.5") as phone:
        assert _login(phone, victim.email, PASSWORD).status_code == 200  # a known device
        for address in ("127.0.0.6", "127.0.0.7"):  # 3 failures each: no other limit trips
            with client_from(base, address) as bot:
                statuses = [_login(bot, victim.email, "botnet guess").status_code for _ in range(3)]
                assert statuses == [401] * 3
        with client_from(base, "127.0.0.8") as new_browser:
            refused = _login(new_browser, victim.email, PASSWORD)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) > 0
        # The phone the holder already signed in on still signs in.
        assert phone.post("/api/auth/logout").status_code == 200
        assert _login(phone, victim.email, PASSWORD).status_code == 200


def test_revoked_device_ends_its_sessions(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    aide = client_for(classroom.aide)
    device_id = aide.get("/api/me").json()["device_id"]
    assert device_id
    admin = client_for(classroom.admin)
    assert admin.post(f"/api/admin/devices/{device_id}/revoke").status_code == 201
    assert aide.get("/api/me").status_code == 401
    # An aide can't revoke devices; a device in another school is "not found".
    other = Factory(sql).user("admin")
    with ApiClient(aide.base_url) as c:
        c.login(other.email)
        assert c.post(f"/api/admin/devices/{device_id}/revoke").status_code == 404


def test_security_headers_on_pages_and_api(client: ApiClient) -> None:
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"]
    assert client.get("/api/me").headers["cache-control"] == "no-store"


def test_oversized_body_is_refused_before_reading(base_url: str) -> None:
    big = b"x" * (11 * 1024 * 1024)
    r = httpx.post(
        base_url + "/api/auth/login", content=big, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]


def test_security_headers_also_on_errors_raised_by_middleware(client: ApiClient) -> None:
    client.csrf_disabled = True
    refused = client.post("/api/auth/logout")  # no CSRF token: refused by the CSRF layer
    assert refused.status_code == 403
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
    assert refused.headers["cache-control"] == "no-store"
