"""Hostile and broken input against the IEP/goal routes and the login routes (and, for
strict JSON, the roster and sync routes): every case is a clear 4xx (never a 500), and
nothing is written. Text that looks like markup is shown as text on the pages.

Cases: NUL bytes (raw and \\u0000, in JSON, forms and query strings), lone surrogates,
100,000-character fields, oversized bodies (refused while streaming), deeply nested JSON,
huge numbers, NaN, wrong types (strings for numbers on every JSON route), bodies of a
media type the route does not take, fields a client may not set, dates in 1900 and 2100.
Every route against every foreign media type: test_request_bodies.py.
"""

from __future__ import annotations

import json
import socket
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.support.client import ApiClient
from tests.support.factories import Classroom

HTML = {"accept": "text/html"}
JSON = {"content-type": "application/json"}
START = date.today().isoformat()
END = (date.today() + timedelta(days=364)).isoformat()
GOAL = {"area": "Reading", "description": "Reads sight words", "measurement": "trials"}
LIMIT = 1024 * 1024  # TANDEM_MAX_BODY_BYTES default


def state(sql: psycopg.Connection[Any], classroom: Classroom) -> tuple[Any, ...]:
    """Everything these requests could write, for one school (and logins/sessions)."""
    row = sql.execute(
        """SELECT (SELECT count(*) FROM iep WHERE school_id = %(s)s),
                  (SELECT count(*) FROM goal WHERE school_id = %(s)s),
                  (SELECT count(*) FROM objective WHERE school_id = %(s)s),
                  (SELECT count(*) FROM accommodation WHERE school_id = %(s)s),
                  (SELECT count(*) FROM service WHERE school_id = %(s)s),
                  (SELECT md5(string_agg(g::text, ',' ORDER BY g.id)) FROM goal g
                    WHERE g.school_id = %(s)s),
                  (SELECT md5(string_agg(i::text, ',' ORDER BY i.id)) FROM iep i
                    WHERE i.school_id = %(s)s),
                  (SELECT count(*) FROM auth_session WHERE school_id = %(s)s)""",
        {"s": classroom.student.school_id},
    ).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture
def teacher(client_for: Any, classroom: Classroom) -> ApiClient:
    c: ApiClient = client_for(classroom.teacher)
    return c


def urls(classroom: Classroom) -> dict[str, str]:
    s = classroom.student
    return {
        "create_iep": f"/api/students/{s.id}/ieps",
        "patch_iep": f"/api/ieps/{s.iep_id}",
        "add_goal": f"/api/ieps/{s.iep_id}/goals",
        "patch_goal": f"/api/goals/{s.goals['trials']}",
        "objective": f"/api/goals/{s.goals['trials']}/objectives",
        "accommodation": f"/api/ieps/{s.iep_id}/accommodations",
        "service": f"/api/ieps/{s.iep_id}/services",
        "goal_form": f"/teacher/ieps/{s.iep_id}/goals",
        "iep_form": f"/teacher/ieps/{s.iep_id}",
        "page": f"/teacher/students/{s.id}",
    }


def assert_refused(r: httpx.Response, status: int = 400, needle: str | None = None) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    if needle is not None:
        assert needle in r.text, (needle, r.text[:300])


def test_nul_bytes_are_refused_in_json_forms_and_query_strings(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    nul = "Text may not contain NUL characters."
    raw_nul = json.dumps(GOAL).replace("Reading", "Read\x00ing").encode()
    assert b"\x00" in raw_nul
    assert_refused(teacher.post(u["add_goal"], content=raw_nul, headers=JSON), needle=nul)
    escaped = json.dumps({**GOAL, "area": "Read\u0000ing"}).encode()
    assert b"\\u0000" in escaped
    assert_refused(teacher.post(u["add_goal"], content=escaped, headers=JSON), needle=nul)
    assert_refused(
        teacher.patch(u["patch_goal"], content=b'{"target": "9\\u0000/10"}', headers=JSON),
        needle=nul,
    )
    assert_refused(
        teacher.post(u["goal_form"], data={**GOAL, "area": "a\x00b"}, headers=HTML), needle=nul
    )
    raw_form = b"area=a%00b&description=x&measurement=trials"
    assert_refused(
        teacher.post(
            u["goal_form"],
            content=raw_form,
            headers={**HTML, "content-type": "application/x-www-form-urlencoded"},
        ),
        needle=nul,
    )
    assert_refused(teacher.get(u["page"] + "?iep=%00", headers=HTML), needle=nul)
    assert_refused(teacher.get("/api/students?q=a%00b"), needle=nul)
    # Login: JSON, form and query string.
    login = {"email": "a\x00b@example.test", "password": "x" * 10}
    assert_refused(
        teacher.post("/api/auth/login", content=json.dumps(login).encode(), headers=JSON),
        needle=nul,
    )
    assert_refused(teacher.post("/login", data=login, headers=HTML), needle=nul)
    assert_refused(teacher.get("/login?next=%2F%00", headers=HTML), needle=nul)
    assert state(sql, classroom) == before


def test_lone_surrogates_and_invalid_utf8_are_refused(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    body = b'{"area": "x\\ud800y", "description": "d", "measurement": "trials"}'
    assert_refused(teacher.post(u["add_goal"], content=body, headers=JSON), needle="surrogate")
    low = b'{"description": "\\udc00"}'
    assert_refused(teacher.post(u["objective"], content=low, headers=JSON), needle="surrogate")
    # A surrogate pair is a real character and is accepted.
    pair = b'{"description": "Uses the \\ud83d\\ude00 card"}'
    r = teacher.post(u["accommodation"], content=pair, headers=JSON)
    assert r.status_code == 201
    sql.execute("DELETE FROM accommodation WHERE id = %s", (r.json()["id"],))
    encoded = b'{"description": "x' + b"\xed\xa0\x80" + b'"}'
    assert_refused(teacher.post(u["objective"], content=encoded, headers=JSON), needle="UTF-8")
    form = b"description=%ED%A0%80"
    assert_refused(
        teacher.post(
            f"/teacher/ieps/{classroom.student.iep_id}/accommodations",
            content=form,
            headers={**HTML, "content-type": "application/x-www-form-urlencoded"},
        ),
        needle="UTF-8",
    )
    assert_refused(teacher.get(u["page"] + "?iep=%ED%A0%80", headers=HTML), needle="UTF-8")
    login = b'{"email": "\\ud800@example.test", "password": "longenough"}'
    assert_refused(teacher.post("/api/auth/login", content=login, headers=JSON), needle="surrogate")
    assert state(sql, classroom) == before


def test_hundred_thousand_character_fields_are_refused(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    huge = "n" * 100_000
    cases = [
        (u["add_goal"], {**GOAL, "area": huge}, "length <= 80"),
        (u["add_goal"], {**GOAL, "description": huge}, "length <= 2000"),
        (u["add_goal"], {**GOAL, "mastery_criterion": huge}, "length <= 500"),
        (u["objective"], {"description": huge}, "length <= 1000"),
        (u["accommodation"], {"description": "ok", "setting": huge}, "length <= 200"),
        (u["service"], {"service_type": huge, "minutes": 30, "period": "week"}, "length <= 80"),
    ]
    for url, body, needle in cases:
        assert_refused(teacher.post(url, json=body), needle=needle)
    assert_refused(teacher.patch(u["patch_goal"], json={"baseline": huge}), needle="length <= 500")
    assert_refused(
        teacher.post(u["goal_form"], data={**GOAL, "area": huge}, headers=HTML),
        needle="Area may be at most 80 characters.",
    )
    assert_refused(
        teacher.post("/api/auth/login", json={"email": huge + "@x.test", "password": "longenough"}),
        needle="length <= 254",
    )
    assert_refused(
        teacher.post("/api/auth/login", json={"email": "a@b.test", "password": huge}),
        needle="length <= 1024",
    )
    r = teacher.post("/login", data={"email": huge, "password": "longenough"}, headers=HTML)
    assert r.status_code == 400
    assert state(sql, classroom) == before


def _raw_request(base_url: str, head: bytes, body_chunks: list[bytes], *, chunked: bool) -> bytes:
    """Send a request by hand (the body possibly incomplete) and read what comes back."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=15) as s:
        s.sendall(head)
        try:
            for chunk in body_chunks:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may hang up as soon as it has answered
        received = b""
        try:
            while not received.endswith(b"}") and len(received) < 65536:
                data = s.recv(65536)
                if not data:
                    break
                received += data
        except ConnectionResetError:
            pass
        return received


def _head(teacher: ApiClient, path: str, extra: str) -> bytes:
    cookies = "; ".join(f"{k}={v}" for k, v in teacher.cookies.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nCookie: {cookies}\r\nx-csrf-token: {teacher.csrf()}\r\n"
        f"{extra}\r\n"
    ).encode()


def test_oversized_bodies_get_413_without_the_server_waiting_for_the_whole_body(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    big = b'{"area": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    r = teacher.post(u["add_goal"], content=big, headers=JSON)
    assert_refused(r, 413, "too large")
    r = teacher.post(
        "/login", content=big, headers={**HTML, "content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413
    # Declared 11 MB, nothing sent: answered at once from the header.
    answer = _raw_request(
        str(teacher.base_url),
        _head(teacher, u["add_goal"], f"Content-Length: {11 * 1024 * 1024}\r\n"),
        [],
        chunked=False,
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Chunked, no length: the server counts while reading and answers 413 just past the
    # limit, although the body never ends (a server buffering it whole would wait).
    chunk = b"x" * 65536
    answer = _raw_request(
        str(teacher.base_url),
        _head(teacher, u["add_goal"], "Transfer-Encoding: chunked\r\n"),
        [b'{"area": "'] + [chunk] * (LIMIT // len(chunk) + 1),
        chunked=True,
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"too large" in answer
    login_answer = _raw_request(
        str(teacher.base_url),
        _head(teacher, "/api/auth/login", "Transfer-Encoding: chunked\r\n"),
        [b'{"email": "'] + [chunk] * (LIMIT // len(chunk) + 1),
        chunked=True,
    )
    assert login_answer.startswith(b"HTTP/1.1 413"), login_answer[:200]
    assert state(sql, classroom) == before


def test_deep_nesting_huge_numbers_nan_and_wrong_types_are_400(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    deep = b"[" * 100_000 + b"]" * 100_000
    deep_obj = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    for url in (u["add_goal"], u["service"], "/api/auth/login"):
        assert_refused(teacher.post(url, content=deep, headers=JSON))
        assert_refused(teacher.post(url, content=deep_obj, headers=JSON))
        nested_field = b'{"area": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        assert_refused(teacher.post(url, content=nested_field, headers=JSON))
    service = '{"service_type": "OT", "period": "week", "minutes": %s}'
    for number in (
        "1" + "0" * 400,
        "1e400",
        "-1e400",
        "99999999999999999999",
        "NaN",
        "Infinity",
        "-Infinity",
        "30.5",
        "1e3",
        "true",
        '"30"',
        "null",
        "[30]",
    ):
        r = teacher.post(u["service"], content=(service % number).encode(), headers=JSON)
        assert_refused(r)
    rating = {**GOAL, "measurement": "rating"}
    for value in (10**30, -(10**30), 1.5, float("nan")):
        body = json.dumps({**rating, "rating_max": value}).encode()  # NaN is not JSON: 400
        assert_refused(teacher.post(u["add_goal"], content=body, headers=JSON))
    wrong_types: list[tuple[str, Any]] = [
        (u["add_goal"], {**GOAL, "area": 5}),
        (u["add_goal"], {**GOAL, "measurement": None}),
        (u["add_goal"], {**GOAL, "task_steps": "Open; Close"}),
        (u["add_goal"], {**GOAL, "home_practice": "yes"}),
        (u["add_goal"], [GOAL]),
        (u["add_goal"], "a goal"),
        (u["patch_goal"], {"active": "false"}),
        (u["patch_goal"], {"active": None}),
        (u["create_iep"], {"start_date": 20260101, "end_date": END}),
        (u["create_iep"], {"start_date": START, "end_date": END, "status": 1}),
        (u["objective"], {"description": {"text": "x"}}),
        ("/api/auth/login", {"email": ["a@b.test"], "password": "longenough"}),
    ]
    for url, body in wrong_types:
        method = teacher.patch if url == u["patch_goal"] else teacher.post
        r = method(url, json=body)
        assert_refused(r)
        assert r.json()["detail"], r.text
    for query in ("abc", "0", "-1", "1" * 30, "1.5"):
        assert_refused(teacher.get(u["page"] + "?iep=" + query, headers=HTML))
    assert teacher.get(f"/teacher/students/{'9' * 30}", headers=HTML).status_code in (400, 404)
    assert_refused(teacher.post(u["add_goal"], content=b'{"area": ', headers=JSON))
    assert_refused(teacher.post(u["add_goal"], content=b"", headers=JSON))
    assert state(sql, classroom) == before


def test_a_body_of_a_media_type_the_route_does_not_take_is_refused_before_decoding(
    teacher: ApiClient, client: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    takes_json = "This request takes application/json"
    form = {"content-type": "application/x-www-form-urlencoded"}
    deep = b'{"email": ' * 5_000 + b"1" + b"}" * 5_000
    # Litestar decodes a JSON route's body whatever its content type; the depth check
    # ran for JSON only: a 500, anonymously (a CSRF token is free to get).
    for headers in (form, {"content-type": "multipart/form-data; boundary=b"}):
        r = client.post("/api/auth/login", content=deep, headers=headers)
        assert_refused(r, 415, takes_json)
    # A \u0000 escape is not a NUL to the form check, but a NUL to the JSON decoder.
    escaped = b'{"description": "a\\u0000b"}'
    assert_refused(teacher.post(u["accommodation"], content=escaped, headers=form), 415)
    # No field of a multipart body was checked for NUL bytes.
    r = teacher.post(
        f"/teacher/ieps/{classroom.student.iep_id}/accommodations",
        files={"description": (None, "a\x00b")},
        headers=HTML,
    )
    assert_refused(r, 415, "takes application/x-www-form-urlencoded")
    r = teacher.post(u["goal_form"], json=GOAL, headers=HTML)
    assert_refused(r, 415, "not application/json")
    assert_refused(teacher.post("/api/auth/logout", json={}), 415, "takes no body")
    # Two Content-Type headers: Litestar's parts would not agree on which counts.
    body = b'{"description": "x"}'
    answer = _raw_request(
        str(teacher.base_url),
        _head(
            teacher,
            u["accommodation"],
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n",
        ),
        [body],
        chunked=False,
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"More than one Content-Type header" in answer
    assert state(sql, classroom) == before


def test_json_bodies_are_strict_on_every_route(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    """A string is not a number on any route (Litestar converts bodies in lax mode)."""
    admin = client_for(classroom.admin)
    aide, other = classroom.aide, classroom.other
    links = {"kind": "assignment", "user_id": aide.id, "student_id": other.id}
    for name in ("student_id", "user_id"):
        r = admin.post("/api/admin/links", json={**links, name: str(links[name])})
        assert_refused(r, needle=f"Expected `int`, got `str` (field: {name})")
    email = f"{uuid.uuid4().hex}@example.test"
    r = admin.post(
        "/api/invites", json={"email": email, "role": "parent", "student_id": str(other.id)}
    )
    assert_refused(r, needle="(field: student_id)")
    assert sql.execute(
        "SELECT count(*) FROM assignment WHERE aide_id = %s AND student_id = %s",
        (aide.id, other.id),
    ).fetchone() == (0,)
    assert sql.execute(
        "SELECT count(*) FROM account_link WHERE email = %s", (email,)
    ).fetchone() == (0,)
    # A sync op's `seq` as a string: the whole request is refused, no op is in the ledger.
    phone = client_for(aide)
    client_id = phone.post("/api/sync/clients", json={"app_version": "1"}).json()["client_id"]
    now = datetime.now(UTC).isoformat()
    op = {"seq": "1", "op_id": str(uuid.uuid4()), "type": "note.add", "at": now, "data": {}}
    batch = {"protocol": 1, "client_id": client_id, "sent_at": now, "ops": [op], "pull": False}
    r = phone.post("/api/sync", json=batch)
    assert_refused(r, needle="(field: ops[0].seq)")
    assert_refused(phone.post("/api/sync", json={**batch, "protocol": "1"}), needle="protocol")
    assert sql.execute(
        "SELECT count(*) FROM sync_op WHERE client_id = %s", (client_id,)
    ).fetchone() == (0,)
    assert phone.post("/api/sync", json={**batch, "ops": [{**op, "seq": 1}]}).status_code == 200


def test_fields_a_client_may_not_set_are_refused(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    forbidden = {
        "approved": True,
        "student_id": classroom.other.id,
        "created_by": classroom.admin.id,
        "role": "admin",
        "school_id": 1,
        "iep_id": classroom.other.iep_id,
    }
    bodies: list[tuple[str, str, dict[str, Any]]] = [
        ("post", u["create_iep"], {"start_date": START, "end_date": END}),
        ("patch", u["patch_iep"], {"status": "active"}),
        ("post", u["add_goal"], GOAL),
        ("patch", u["patch_goal"], {"target": "x"}),
        ("post", u["objective"], {"description": "x"}),
        ("post", u["accommodation"], {"description": "x"}),
        ("post", u["service"], {"service_type": "OT", "minutes": 30, "period": "week"}),
    ]
    for method, url, body in bodies:
        for name, value in forbidden.items():
            r = getattr(teacher, method)(url, json={**body, name: value})
            assert_refused(r, needle=f"unknown field `{name}`")
    for name in ("role", "approved"):
        r = teacher.post(
            "/api/auth/login",
            json={"email": classroom.teacher.email, "password": "x" * 10, name: "admin"},
        )
        assert_refused(r, needle=f"unknown field `{name}`")
    for name in ("student_id", "created_by", "approved"):
        r = teacher.post(u["goal_form"], data={**GOAL, name: "1"}, headers=HTML)
        assert_refused(r, needle=f"Unknown field “{name}”")
    assert state(sql, classroom) == before


def test_dates_in_1900_and_2100_are_refused_with_a_reason(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    before = state(sql, classroom)
    for start, end in (
        ("1900-01-01", END),
        (START, "2100-01-01"),
        ("2100-03-01", "2100-06-01"),
        ("1899-12-31", "1900-01-01"),
    ):
        r = teacher.post(u["create_iep"], json={"start_date": start, "end_date": end})
        assert_refused(r, needle="must be on or after 1990-01-01 and before 2100-01-01")
        r = teacher.post(
            f"/teacher/students/{classroom.student.id}/iep",
            data={"start_date": start, "end_date": end, "status": "draft"},
            headers=HTML,
        )
        assert_refused(r, needle="must be on or after 1990-01-01 and before 2100-01-01")
    for patch in ({"start_date": "1900-01-01"}, {"end_date": "2100-01-01"}):
        assert_refused(teacher.patch(u["patch_iep"], json=patch), needle="before 2100-01-01")
    assert state(sql, classroom) == before


XSS = ["<script>alert('x')</script>", '<svg onload="alert(1)">', '"><img src=x onerror=alert(1)>']


def test_markup_in_any_text_field_is_rendered_as_text(
    teacher: ApiClient, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    u = urls(classroom)
    script, svg, attr = XSS
    sql.execute(
        "UPDATE student SET first_name = %s, last_name = %s, grade = %s WHERE id = %s",
        (script, svg, "<b>", classroom.student.id),
    )
    sql.execute("UPDATE app_user SET name = %s WHERE id = %s", (svg, classroom.provider.id))
    goal = {
        "area": script[:80],
        "description": svg,
        "measurement": "task_analysis",
        "baseline": attr,
        "target": script,
        "mastery_criterion": svg,
        "task_steps": [script, svg],
    }
    r = teacher.post(u["add_goal"], json=goal)
    assert r.status_code == 201
    goal_id = r.json()["id"]
    assert (
        teacher.post(f"/api/goals/{goal_id}/objectives", json={"description": script}).status_code
        == 201
    )
    assert (
        teacher.post(u["accommodation"], json={"description": svg, "setting": script}).status_code
        == 201
    )
    r = teacher.post(
        u["service"],
        json={
            "service_type": script[:80],
            "minutes": 30,
            "period": "week",
            "setting": attr,
            "provider_id": classroom.provider.id,
        },
    )
    assert r.status_code == 201
    pages = [
        teacher.get(u["page"], headers=HTML),
        teacher.get("/teacher", headers=HTML),
        teacher.get(f"/teacher/goals/{goal_id}/edit", headers=HTML),
        teacher.get(f"/teacher/ieps/{classroom.student.iep_id}/edit", headers=HTML),
        # An error page that shows back what was typed.
        teacher.post(
            u["goal_form"],
            data={"area": script, "description": svg, "measurement": "rating"},
            headers=HTML,
        ),
    ]
    for page in pages:
        assert page.status_code in (200, 400)
        text = page.text
        for payload in XSS:
            assert payload not in text
        assert "<script>alert" not in text
        assert "<svg" not in text
        assert "<img src=x" not in text
        assert "onload=" not in text.replace("onload=&#34;", "").replace("onload=&quot;", "")
    assert "&lt;script&gt;alert(" in pages[0].text
    assert "&lt;svg onload=" in pages[0].text
    assert "&lt;script&gt;" in pages[1].text
    # The JSON API returns the text unchanged (escaping is the page's job) as JSON.
    record = teacher.get(f"/api/students/{classroom.student.id}")
    assert record.headers["content-type"].startswith("application/json")
    assert record.json()["first_name"] == script


def test_security_headers_on_pages_api_and_refusals(
    teacher: ApiClient, classroom: Classroom
) -> None:
    u = urls(classroom)
    responses = {
        "page": teacher.get(u["page"], headers=HTML),
        "form error": teacher.post(u["goal_form"], data={"area": "x"}, headers=HTML),
        "api": teacher.get(f"/api/students/{classroom.student.id}"),
        "not found": teacher.get(f"/api/students/{classroom.other.id}"),
        "nul": teacher.post(u["add_goal"], content=b'{"area": "\\u0000"}', headers=JSON),
        "too large": teacher.post(u["add_goal"], content=b"x" * (LIMIT + 1), headers=JSON),
        "nested page": teacher.post(
            u["add_goal"], content=b"[" * 1000 + b"]" * 1000, headers={**JSON, **HTML}
        ),
    }
    assert [r.status_code for r in responses.values()] == [200, 400, 200, 404, 400, 413, 400]
    for name, r in responses.items():
        csp = r.headers.get("content-security-policy", "")
        assert "object-src 'none'" in csp, name
        assert "frame-ancestors 'none'" in csp, name
        assert "script-src 'self'" in csp, name
        assert "unsafe-inline" not in csp, name
        assert r.headers.get("x-content-type-options") == "nosniff", name
        assert r.headers.get("cache-control") == "no-store", name
    css = teacher.get("/static/iep/pages.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
