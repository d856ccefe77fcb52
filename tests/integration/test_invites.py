"""Invitations and password-reset links: single use, expiry, who may make them, revoked
guardians, landing logged in, links built on the configured base URL (never the Host
header), other sessions ending on reset, mail when SMTP is set, the per-address limit."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import psycopg

from tests.support.client import ApiClient, client_from
from tests.support.factories import PASSWORD, Classroom, Factory
from tests.support.servers import AppServer

NEW_PASSWORD = "a brand new passphrase for tandem"


def fresh_email(prefix: str = "new") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"


def token_path(url: str) -> str:
    return urlsplit(url).path


def invite(c: ApiClient, **body: Any) -> Any:
    return c.post("/api/invites", json=body)


def accept(base_url: str, path: str, password: str = NEW_PASSWORD, name: str = "") -> Any:
    """Accept in a fresh browser; returns (client, response). The caller closes it."""
    c = ApiClient(base_url)
    page = c.get(path, headers={"accept": "text/html"})
    data = {"password": password}
    if name:
        data["name"] = name
    r = c.post(path, data=data, headers={"accept": "text/html"})
    return c, page, r


def test_staff_invitation_is_single_use_and_lands_logged_in_on_the_role_home(
    client_for: Any, classroom: Classroom, base_url: str, sql: psycopg.Connection[Any]
) -> None:
    admin = client_for(classroom.admin)
    email = fresh_email("aide")
    r = invite(admin, email=email.upper(), role="aide", name="Jordan Lee")
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["url"].startswith(base_url + "/invite/")
    assert link["email"] == email
    assert link["emailed"] is False  # no SMTP configured in the shared test server
    # Only the hash is stored: the token itself is nowhere in the table.
    token = link["url"].rsplit("/", 1)[1]
    stored = sql.execute(
        "SELECT token_hash, used_at FROM account_link WHERE id = %s", (link["id"],)
    ).fetchone()
    assert stored is not None
    assert token.encode() not in bytes(stored[0])
    assert stored[1] is None

    c, page, r = accept(base_url, token_path(link["url"]), name="Jordan Lee")
    try:
        assert page.status_code == 200
        assert email in page.text
        assert r.status_code == 303
        assert r.headers["location"] == "/app"
        me = c.get("/api/me").json()
        assert me["role"] == "aide"
        assert me["email"] == email
        assert me["name"] == "Jordan Lee"
    finally:
        c.close()
    # The invitee can log in with the password they chose.
    with ApiClient(base_url) as again:
        again.login(email, NEW_PASSWORD)

    # Second use: refused, and nothing changes.
    c2, page2, r2 = accept(base_url, token_path(link["url"]), password="another password!")
    c2.close()
    assert page2.status_code == 410
    assert r2.status_code == 410
    assert "expired or was already used" in r2.text
    count = sql.execute("SELECT count(*) FROM app_user WHERE lower(email) = %s", (email,))
    assert count.fetchone() == (1,)


def test_invitation_lands_each_staff_role_on_its_home(
    client_for: Any, classroom: Classroom, base_url: str
) -> None:
    admin = client_for(classroom.admin)
    for role, home in (("admin", "/admin"), ("teacher", "/teacher"), ("provider", "/app")):
        link = invite(admin, email=fresh_email(role), role=role).json()
        c, _, r = accept(base_url, token_path(link["url"]))
        try:
            assert r.status_code == 303
            assert r.headers["location"] == home
            assert c.get("/api/me").json()["role"] == role
        finally:
            c.close()


def test_expired_invitation_is_refused(
    client_for: Any, classroom: Classroom, base_url: str, sql: psycopg.Connection[Any]
) -> None:
    admin = client_for(classroom.admin)
    link = invite(admin, email=fresh_email(), role="teacher").json()
    sql.execute(
        "UPDATE account_link SET expires_at = now() - interval '1 second' WHERE id = %s",
        (link["id"],),
    )
    c, page, r = accept(base_url, token_path(link["url"]))
    c.close()
    assert page.status_code == r.status_code == 410
    assert sql.execute(
        "SELECT count(*) FROM app_user WHERE email = %s", (link["email"],)
    ).fetchone() == (0,)


def test_invitation_expiry_follows_the_setting(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    admin = client_for(classroom.admin)
    link = invite(admin, email=fresh_email(), role="aide").json()
    hours = sql.execute(
        "SELECT extract(epoch FROM expires_at - created_at) / 3600 FROM account_link WHERE id = %s",
        (link["id"],),
    ).fetchone()
    assert hours is not None
    assert round(float(hours[0])) == 7 * 24  # TANDEM_INVITE_TTL_HOURS default


def test_unknown_and_overlong_tokens_are_404_not_500(client: ApiClient) -> None:
    assert client.get("/invite/nope", headers={"accept": "text/html"}).status_code == 404
    assert client.get("/reset/" + "x" * 500).status_code == 404
    r = client.post("/invite/nope", data={"password": NEW_PASSWORD})
    assert r.status_code == 404


def test_who_may_invite_whom(client_for: Any, classroom: Classroom) -> None:
    teacher = client_for(classroom.teacher)
    # A teacher invites a parent for a student in the caseload...
    ok = invite(teacher, email=fresh_email("mum"), role="parent", student_id=classroom.student.id)
    assert ok.status_code == 201, ok.text
    # ...but not staff,
    for role in ("aide", "teacher", "provider", "admin"):
        assert invite(teacher, email=fresh_email(), role=role).status_code == 403
    # ...and not for a student outside the caseload (same school): "not found".
    outside = invite(teacher, email=fresh_email(), role="parent", student_id=classroom.other.id)
    assert outside.status_code == 404
    # Aides, providers and parents invite no one.
    for who in (classroom.aide, classroom.provider, classroom.parent):
        c = client_for(who)
        assert invite(c, email=fresh_email(), role="aide").status_code == 403
        r = invite(c, email=fresh_email(), role="parent", student_id=classroom.student.id)
        assert r.status_code == 403
    # An admin may not invite for another school's student, nor someone who has an account.
    admin = client_for(classroom.admin)
    taken = invite(admin, email=classroom.aide.email, role="teacher")
    assert taken.status_code == 409
    # A parent invitation must name a student; a staff one must not.
    assert invite(admin, email=fresh_email(), role="parent").status_code == 400
    staff_with_student = invite(
        admin, email=fresh_email(), role="aide", student_id=classroom.student.id
    )
    assert staff_with_student.status_code == 400


def test_admin_cannot_invite_for_another_schools_student(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    foreign = Factory(sql).student("Zed", with_iep=False)
    admin = client_for(classroom.admin)
    r = invite(admin, email=fresh_email(), role="parent", student_id=foreign.id)
    assert r.status_code == 404


def test_parent_invitation_creates_the_guardianship_and_lands_on_parent_home(
    client_for: Any, classroom: Classroom, base_url: str, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    email = fresh_email("dad")
    link = invite(teacher, email=email, role="parent", student_id=classroom.student.id).json()
    c, page, r = accept(base_url, token_path(link["url"]), name="Sam Rivera")
    try:
        assert classroom.student.first_name in page.text
        assert r.status_code == 303
        assert r.headers["location"] == "/parent"
        me = c.get("/api/me").json()
        assert me["role"] == "parent"
    finally:
        c.close()
    rows = sql.execute(
        """SELECT g.student_id, g.revoked, g.ends_at, g.relationship FROM guardianship g
             JOIN app_user u ON u.id = g.parent_id WHERE u.email = %s""",
        (email,),
    ).fetchall()
    assert rows == [(classroom.student.id, False, None, "guardian")]
    scope = sql.execute(
        "SELECT student_id FROM tandem_student_scope(%s, %s, 'parent', now())",
        (me["id"], classroom.student.school_id),
    ).fetchall()
    assert scope == [(classroom.student.id,)]


def test_existing_parent_accepts_a_second_child_with_their_own_password(
    client_for: Any,
    classroom: Classroom,
    base_url: str,
    factory: Factory,
    sql: psycopg.Connection[Any],
) -> None:
    sibling = factory.student("Leo", with_iep=False)
    factory.caseload(classroom.teacher, sibling)
    teacher = client_for(classroom.teacher)
    link = invite(teacher, email=classroom.parent.email, role="parent", student_id=sibling.id)
    assert link.status_code == 201, link.text
    path = token_path(link.json()["url"])
    wrong = ApiClient(base_url)
    try:
        assert "already have a Tandem account" in wrong.get(path).text
        r = wrong.post(path, data={"password": "not my password"})
        assert r.status_code == 401
    finally:
        wrong.close()
    c, _, r = accept(base_url, path, password="correct horse battery staple")
    c.close()
    assert r.status_code == 303
    children = sql.execute(
        "SELECT student_id FROM guardianship WHERE parent_id = %s ORDER BY student_id",
        (classroom.parent.id,),
    ).fetchall()
    assert children == sorted([(classroom.student.id,), (sibling.id,)])


def test_revoked_guardian_cannot_be_invited_back(
    client_for: Any,
    classroom: Classroom,
    factory: Factory,
    base_url: str,
    sql: psycopg.Connection[Any],
) -> None:
    barred = factory.user("parent")
    factory.guardian(barred, classroom.student, revoked=True)
    teacher = client_for(classroom.teacher)
    admin = client_for(classroom.admin)
    for c in (teacher, admin):
        r = invite(c, email=barred.email, role="parent", student_id=classroom.student.id)
        assert r.status_code == 409
        assert "revoked" in r.json()["detail"]
    # Nor can an admin link them again by hand.
    relink = admin.post(
        "/api/admin/links",
        json={"kind": "guardianship", "user_id": barred.id, "student_id": classroom.student.id},
    )
    assert relink.status_code == 409


def test_invitation_made_before_a_revocation_cannot_restore_access(
    client_for: Any, classroom: Classroom, base_url: str, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    link = invite(
        teacher, email=classroom.parent.email, role="parent", student_id=classroom.student.id
    ).json()
    guardianship = sql.execute(
        "SELECT id FROM guardianship WHERE parent_id = %s AND student_id = %s",
        (classroom.parent.id, classroom.student.id),
    ).fetchone()
    assert guardianship is not None
    admin = client_for(classroom.admin)
    revoked = admin.post(
        f"/api/admin/guardianships/{guardianship[0]}/revoke", json={"reason": "Court order"}
    )
    assert revoked.status_code == 200
    # Revocation cancelled the pending invitation...
    c, page, r = accept(base_url, token_path(link["url"]), password="correct horse battery staple")
    c.close()
    assert page.status_code == r.status_code == 410
    # ...and even a link still open (made straight in the table) is refused at acceptance.
    link2 = invite(
        admin, email=fresh_email("other"), role="parent", student_id=classroom.student.id
    )
    assert link2.status_code == 201
    sql.execute(
        "UPDATE account_link SET email = %s WHERE id = %s",
        (classroom.parent.email.lower(), link2.json()["id"]),
    )
    c, _, r = accept(
        base_url, token_path(link2.json()["url"]), password="correct horse battery staple"
    )
    c.close()
    assert r.status_code == 403
    active = sql.execute(
        """SELECT count(*) FROM guardianship WHERE parent_id = %s AND student_id = %s
              AND NOT revoked""",
        (classroom.parent.id, classroom.student.id),
    ).fetchone()
    assert active == (0,)


def test_short_password_is_refused_and_the_link_stays_usable(
    client_for: Any, classroom: Classroom, base_url: str
) -> None:
    admin = client_for(classroom.admin)
    link = invite(admin, email=fresh_email(), role="aide").json()
    path = token_path(link["url"])
    c, _, r = accept(base_url, path, password="short")
    c.close()
    assert r.status_code == 400
    assert "at least 8 characters" in r.text
    long_passphrase = "the quick brown fox jumps over the lazy dog " * 10
    c, _, r = accept(base_url, path, password=long_passphrase)
    c.close()
    assert r.status_code == 303


def test_links_use_the_configured_base_url_not_the_host_header(
    client_for: Any, classroom: Classroom, base_url: str
) -> None:
    admin = client_for(classroom.admin)
    evil = {"host": "evil.example", "x-forwarded-host": "evil.example"}
    r = admin.post("/api/invites", json={"email": fresh_email(), "role": "aide"}, headers=evil)
    assert r.status_code == 201
    assert r.json()["url"].startswith(base_url + "/invite/")
    reset = admin.post("/api/reset-links", json={"user_id": classroom.aide.id}, headers=evil)
    assert reset.status_code == 201
    assert reset.json()["url"].startswith(base_url + "/reset/")
    page = admin.post(
        "/admin/invitations",
        data={"email": fresh_email(), "role": "teacher"},
        headers={**evil, "accept": "text/html"},
    )
    assert page.status_code == 200
    assert "evil.example" not in page.text
    assert base_url + "/invite/" in page.text


def test_reset_link_is_single_use_expires_and_ends_other_sessions(
    client_for: Any,
    classroom: Classroom,
    base_url: str,
    factory: Factory,
    sql: psycopg.Connection[Any],
) -> None:
    teacher = factory.user("teacher")
    phone = client_for(teacher)
    laptop = client_for(teacher)
    admin = client_for(classroom.admin)
    r = admin.post("/api/reset-links", json={"user_id": teacher.id})
    assert r.status_code == 201
    link = r.json()
    assert link["url"].startswith(base_url + "/reset/")
    hours = sql.execute(
        "SELECT extract(epoch FROM expires_at - created_at) / 3600 FROM account_link WHERE id = %s",
        (link["id"],),
    ).fetchone()
    assert hours is not None
    assert round(float(hours[0])) == 24  # TANDEM_RESET_TTL_HOURS default
    c = ApiClient(base_url)
    try:
        assert teacher.email in c.get(token_path(link["url"])).text
        short = c.post(token_path(link["url"]), data={"password": "1234567"})
        assert short.status_code == 400
        done = c.post(token_path(link["url"]), data={"password": NEW_PASSWORD})
        assert done.status_code == 303
        assert done.headers["location"] == "/teacher"
        assert c.get("/api/me").json()["id"] == teacher.id  # this browser is signed in
    finally:
        c.close()
    # Every other session ended.
    assert phone.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 401
    # The old password is gone, the new one works.
    with ApiClient(base_url) as old:
        bad = old.post(
            "/api/auth/login",
            json={"email": teacher.email, "password": "correct horse battery staple"},
        )
        assert bad.status_code == 401
        old.login(teacher.email, NEW_PASSWORD)
    # Single use.
    with ApiClient(base_url) as again:
        assert again.post(token_path(link["url"]), data={"password": "x" * 12}).status_code == 410
    # Expiry.
    second = admin.post("/api/reset-links", json={"user_id": teacher.id}).json()
    sql.execute(
        "UPDATE account_link SET expires_at = now() - interval '1 minute' WHERE id = %s",
        (second["id"],),
    )
    with ApiClient(base_url) as late:
        assert late.get(token_path(second["url"])).status_code == 410
        assert late.post(token_path(second["url"]), data={"password": "x" * 12}).status_code == 410


def test_who_may_make_reset_links(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    # A teacher: the parents of students in their caseload only.
    assert (
        teacher.post("/api/reset-links", json={"user_id": classroom.parent.id}).status_code == 201
    )
    other_parent = factory.user("parent")
    factory.guardian(other_parent, classroom.other)
    assert teacher.post("/api/reset-links", json={"user_id": other_parent.id}).status_code == 404
    for staff in (classroom.aide, classroom.admin, classroom.provider):
        assert teacher.post("/api/reset-links", json={"user_id": staff.id}).status_code == 404
    # Aides, providers and parents make none.
    for who in (classroom.aide, classroom.provider, classroom.parent):
        c = client_for(who)
        assert c.post("/api/reset-links", json={"user_id": classroom.parent.id}).status_code == 403
    # An admin: anyone in the school, nobody elsewhere.
    admin = client_for(classroom.admin)
    assert admin.post("/api/reset-links", json={"user_id": classroom.aide.id}).status_code == 201
    stranger = Factory(sql).user("teacher")
    assert admin.post("/api/reset-links", json={"user_id": stranger.id}).status_code == 404


def test_reset_for_a_parent_whose_guardianship_was_revoked_is_refused_to_the_teacher(
    client_for: Any, classroom: Classroom, factory: Factory
) -> None:
    barred = factory.user("parent")
    factory.guardian(barred, classroom.student, revoked=True)
    teacher = client_for(classroom.teacher)
    assert teacher.post("/api/reset-links", json={"user_id": barred.id}).status_code == 404


def test_a_limited_invitation_acceptance_is_a_429_page_and_leaves_the_holders_login_alone(
    client_for: Any,
    classroom: Classroom,
    factory: Factory,
    base_url: str,
    sql: psycopg.Connection[Any],
) -> None:
    holder = factory.user("parent")
    factory.guardian(holder, classroom.other)
    teacher = client_for(classroom.teacher)
    link = invite(teacher, email=holder.email, role="parent", student_id=classroom.student.id)
    assert link.status_code == 201, link.text
    path = token_path(link.json()["url"])
    html = {"accept": "text/html"}
    # Someone else holding the link guesses the account's password.
    with client_from(base_url, "127.0.0.1") as guesser:
        statuses = [
            guesser.post(path, data={"password": f"guess {i}"}, headers=html).status_code
            for i in range(5)
        ]
        assert statuses == [401] * 5
        limited = guesser.post(path, data={"password": "one more guess"}, headers=html)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "Too many login attempts" in limited.text
        assert 'name="password"' in limited.text  # the page, with its form
    used = sql.execute(
        "SELECT used_at FROM account_link WHERE id = %s", (link.json()["id"],)
    ).fetchone()
    assert used == (None,)  # nothing changed: the link is still there to use
    # The holder, from their own address: their login works, and so does the link.
    with client_from(base_url, "127.0.0.2") as own:
        assert (
            own.post(
                "/api/auth/login", json={"email": holder.email, "password": PASSWORD}
            ).status_code
            == 200
        )
    with client_from(base_url, "127.0.0.2") as own:
        assert own.post(path, data={"password": PASSWORD}, headers=html).status_code == 303
    children = sql.execute(
        "SELECT count(*) FROM guardianship WHERE parent_id = %s AND student_id = %s",
        (holder.id, classroom.student.id),
    ).fetchone()
    assert children == (1,)


ADDRESS_KEY = "login:address:127.0.0.1"


def test_login_rate_limit_per_address_trips_across_accounts(
    strict_server: AppServer, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    # The counters live in Postgres and every test logs in from 127.0.0.1: start afresh.
    sql.execute("DELETE FROM rate_limit WHERE key = %s", (ADDRESS_KEY,))
    # Each attempt names a different account, so only the per-address limit can trip.
    with ApiClient(strict_server.base_url) as c:
        statuses = [
            c.post(
                "/api/auth/login",
                json={"email": fresh_email("guess"), "password": "wrong password"},
            ).status_code
            for _ in range(6)
        ]
        assert statuses[:4] == [401] * 4
        assert statuses[4:] == [429, 429]
        real = factory.user("teacher")
        limited = c.post(
            "/api/auth/login",
            json={"email": real.email, "password": "correct horse battery staple"},
        )
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0


def test_links_are_emailed_when_smtp_is_configured(
    strict_server: AppServer, smtp_sink: tuple[int, list[str]], sql: psycopg.Connection[Any]
) -> None:
    admin_user = Factory(sql).user("admin")
    sql.execute("DELETE FROM rate_limit WHERE key = %s", (ADDRESS_KEY,))
    with ApiClient(strict_server.base_url) as admin:
        admin.login(admin_user.email)
        email = fresh_email("mailed")
        r = admin.post("/api/invites", json={"email": email, "role": "teacher"})
        assert r.status_code == 201
        link = r.json()
    assert link["emailed"] is True
    mails = [m for m in smtp_sink[1] if email in m]
    assert len(mails) == 1
    assert link["url"] in mails[0]
    assert "From: tandem@school.example" in mails[0]


def test_teacher_families_page_invites_parents_and_makes_their_reset_links(
    client_for: Any,
    classroom: Classroom,
    base_url: str,
    factory: Factory,
    sql: psycopg.Connection[Any],
) -> None:
    teacher = client_for(classroom.teacher)
    page = teacher.get("/families", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert f"{classroom.student.first_name} {classroom.student.last_name}" in page.text
    assert classroom.parent.email in page.text
    assert classroom.other.last_name not in page.text  # not in the caseload
    assert page.text.count("<form") == page.text.count('name="_csrf_token"')
    email = fresh_email("gran")
    assert 'name="relationship"' in page.text
    made = teacher.post(
        "/families/invite",
        data={
            "email": email,
            "student_id": str(classroom.student.id),
            "name": "Gran",
            "relationship": "grandmother",
        },
        headers={"accept": "text/html"},
    )
    assert made.status_code == 200
    url = re.search(r'value="(http[^"]+/invite/[^"]+)"', made.text)
    assert url is not None
    assert url.group(1).startswith(base_url)
    c, _, r = accept(base_url, token_path(url.group(1)))
    c.close()
    assert r.headers["location"] == "/parent"
    assert sql.execute(
        """SELECT g.relationship FROM guardianship g JOIN app_user u ON u.id = g.parent_id
            WHERE u.email = %s""",
        (email,),
    ).fetchall() == [("grandmother",)]
    outside = teacher.post(
        "/families/invite",
        data={"email": fresh_email(), "student_id": str(classroom.other.id)},
        headers={"accept": "text/html"},
    )
    assert outside.status_code == 404
    reset = teacher.post(
        f"/families/{classroom.parent.id}/reset-link", headers={"accept": "text/html"}
    )
    assert reset.status_code == 200
    assert "/reset/" in reset.text
    stranger = factory.user("parent")
    factory.guardian(stranger, classroom.other)
    refused = teacher.post(f"/families/{stranger.id}/reset-link", headers={"accept": "text/html"})
    assert refused.status_code == 404
    aide = client_for(classroom.aide)
    assert aide.get("/families", headers={"accept": "text/html"}).status_code == 403


def test_an_invitation_used_five_times_at_once_makes_one_account(
    client_for: Any, classroom: Classroom, base_url: str, sql: psycopg.Connection[Any]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    admin = client_for(classroom.admin)
    link = invite(admin, email=fresh_email("race"), role="aide").json()
    path = token_path(link["url"])

    def use(i: int) -> int:
        c, _, r = accept(base_url, path, password=f"racing passphrase number {i}")
        c.close()
        return int(r.status_code)

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(use, range(5)))
    assert statuses == [303, 410, 410, 410, 410]
    assert sql.execute(
        "SELECT count(*) FROM app_user WHERE email = %s", (link["email"],)
    ).fetchone() == (1,)


def test_a_parent_invitation_may_name_the_relationship(
    client_for: Any, classroom: Classroom, base_url: str, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    admin = client_for(classroom.admin)
    email = fresh_email("grandpa")
    sid = classroom.student.id
    for bad in ("", "   ", "x" * 41, "a\x00b"):
        r = invite(teacher, email=email, role="parent", student_id=sid, relationship=bad)
        assert r.status_code == 400, (bad, r.text)
    staff = invite(admin, email=fresh_email(), role="aide", relationship="uncle")
    assert staff.status_code == 400
    assert "relationship" in staff.json()["detail"]
    assert sql.execute(
        "SELECT count(*) FROM account_link WHERE lower(email) = %s", (email,)
    ).fetchone() == (0,)
    link = invite(teacher, email=email, role="parent", student_id=sid, relationship=" grandfather ")
    assert link.status_code == 201, link.text
    c, _, r = accept(base_url, token_path(link.json()["url"]))
    c.close()
    assert r.headers["location"] == "/parent"
    assert sql.execute(
        """SELECT g.relationship FROM guardianship g JOIN app_user u ON u.id = g.parent_id
            WHERE u.email = %s""",
        (email,),
    ).fetchall() == [("grandfather",)]
