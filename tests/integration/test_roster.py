"""The admin's roster: admin only, one school only, history kept when links end, role
changes and deactivation end sessions, guardianship revocation is for good, and the
/admin pages work as plain forms."""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg

from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory

HTML = {"accept": "text/html"}


def in_scope(sql: psycopg.Connection[Any], user_id: int, school_id: int, role: str) -> list[int]:
    rows = sql.execute(
        "SELECT student_id FROM tandem_student_scope(%s, %s, %s, now()) ORDER BY 1",
        (user_id, school_id, role),
    ).fetchall()
    return [r[0] for r in rows]


def test_roster_is_admin_only(client_for: Any, classroom: Classroom, client: ApiClient) -> None:
    for who in (classroom.teacher, classroom.provider, classroom.aide, classroom.parent):
        c = client_for(who)
        assert c.get("/api/admin/users").status_code == 403
        assert c.get("/admin", headers=HTML).status_code == 403
        assert c.post(f"/api/admin/users/{classroom.aide.id}/deactivate").status_code == 403
    anonymous = client.get("/admin", headers=HTML)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")
    assert client.get("/api/admin/students").status_code == 401


def test_roster_lists_only_the_admins_school(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    elsewhere = Factory(sql)
    stranger = elsewhere.user("teacher")
    foreign_student = elsewhere.student("Zed", with_iep=False)
    admin = client_for(classroom.admin)
    users = {u["id"] for u in admin.get("/api/admin/users").json()}
    assert classroom.aide.id in users
    assert stranger.id not in users
    students = {s["id"] for s in admin.get("/api/admin/students").json()}
    assert {classroom.student.id, classroom.other.id} <= students
    assert foreign_student.id not in students
    # Another school's ids behave like ids that do not exist.
    link = elsewhere.assign(elsewhere.user("aide"), foreign_student)
    device = elsewhere.one(
        "INSERT INTO device (school_id, user_id, token_hash) VALUES (%s, %s, %s) RETURNING id",
        elsewhere.school_id,
        stranger.id,
        os.urandom(32),
    )
    checks = [
        admin.get(f"/api/admin/students/{foreign_student.id}/links"),
        admin.post(f"/api/admin/users/{stranger.id}/role", json={"role": "aide"}),
        admin.post(f"/api/admin/users/{stranger.id}/deactivate"),
        admin.post(f"/api/admin/links/assignment/{link}/end"),
        admin.post(f"/api/admin/guardianships/{link}/revoke", json={"reason": "x"}),
        admin.post(
            "/api/admin/links",
            json={"kind": "caseload", "user_id": stranger.id, "student_id": classroom.student.id},
        ),
        admin.post(
            "/api/admin/links",
            json={
                "kind": "assignment",
                "user_id": classroom.aide.id,
                "student_id": foreign_student.id,
            },
        ),
        admin.post(f"/admin/devices/{device}/revoke", headers=HTML),
        admin.get(f"/admin/students/{foreign_student.id}", headers=HTML),
    ]
    assert [r.status_code for r in checks] == [404] * len(checks)
    # Nothing changed over there.
    assert sql.execute("SELECT ends_at FROM assignment WHERE id = %s", (link,)).fetchone() == (
        None,
    )
    assert sql.execute(
        "SELECT m.role, u.is_active FROM membership m JOIN app_user u ON u.id = m.user_id "
        "WHERE u.id = %s",
        (stranger.id,),
    ).fetchone() == ("teacher", True)


def test_ending_a_link_keeps_its_history_and_ends_access(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    aide = factory.user("aide")
    admin = client_for(classroom.admin)
    body = {"kind": "assignment", "user_id": aide.id, "student_id": classroom.other.id}
    first = admin.post("/api/admin/links", json=body)
    assert first.status_code == 201, first.text
    assert admin.post("/api/admin/links", json=body).status_code == 409  # already current
    assert in_scope(sql, aide.id, aide.school_id, "aide") == [classroom.other.id]
    aide_client = client_for(aide)
    ended = admin.post(f"/api/admin/links/assignment/{first.json()['id']}/end")
    assert ended.status_code == 200
    assert ended.json() == {"student_id": classroom.other.id}
    assert in_scope(sql, aide.id, aide.school_id, "aide") == []
    assert aide_client.get("/api/me").status_code == 200  # the account itself is untouched
    second = admin.post("/api/admin/links", json=body)
    assert second.status_code == 201
    links = admin.get(f"/api/admin/students/{classroom.other.id}/links").json()["links"]
    mine = [link for link in links if link["user_id"] == aide.id]
    assert len(mine) == 2
    old = next(link for link in mine if link["id"] == first.json()["id"])
    assert old["ends_at"] is not None
    assert old["current"] is False
    assert old["starts_at"] <= old["ends_at"]
    new = next(link for link in mine if link["id"] == second.json()["id"])
    assert new["ends_at"] is None
    assert new["current"] is True
    rows = sql.execute("SELECT count(*) FROM assignment WHERE aide_id = %s", (aide.id,)).fetchone()
    assert rows == (2,)  # nothing was deleted


def test_links_need_the_right_role(client_for: Any, classroom: Classroom) -> None:
    admin = client_for(classroom.admin)
    wrong = [
        ("caseload", classroom.aide.id),
        ("assignment", classroom.teacher.id),
        ("guardianship", classroom.teacher.id),
    ]
    for kind, user_id in wrong:
        r = admin.post(
            "/api/admin/links",
            json={"kind": kind, "user_id": user_id, "student_id": classroom.other.id},
        )
        assert r.status_code == 400
        assert "link needs" in r.json()["detail"]
    bad_kind = admin.post("/api/admin/links/friendship/1/end")
    assert bad_kind.status_code in (400, 404)


def test_revoking_a_guardianship_ends_access_for_good(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    parent = factory.user("parent")
    link = factory.guardian(parent, classroom.other)
    assert in_scope(sql, parent.id, parent.school_id, "parent") == [classroom.other.id]
    admin = client_for(classroom.admin)
    r = admin.post(
        f"/api/admin/guardianships/{link}/revoke", json={"reason": "Court order 2026-114"}
    )
    assert r.status_code == 200
    assert in_scope(sql, parent.id, parent.school_id, "parent") == []
    row = sql.execute(
        "SELECT revoked, revoked_reason, ends_at IS NOT NULL FROM guardianship WHERE id = %s",
        (link,),
    ).fetchone()
    assert row == (True, "Court order 2026-114", True)
    again = admin.post(
        "/api/admin/links",
        json={"kind": "guardianship", "user_id": parent.id, "student_id": classroom.other.id},
    )
    assert again.status_code == 409
    history = admin.get(f"/api/admin/students/{classroom.other.id}/links").json()["links"]
    revoked = [h for h in history if h["id"] == link]
    assert revoked[0]["revoked"] is True
    assert revoked[0]["revoked_reason"] == "Court order 2026-114"
    assert (
        admin.post(f"/api/admin/guardianships/{link}/revoke", json={"reason": ""}).status_code
        == 400
    )


def test_role_change_ends_the_users_sessions(
    client_for: Any, classroom: Classroom, factory: Factory, base_url: str
) -> None:
    aide = factory.user("aide")
    phone = client_for(aide)
    assert phone.get("/api/me").json()["role"] == "aide"
    admin = client_for(classroom.admin)
    r = admin.post(f"/api/admin/users/{aide.id}/role", json={"role": "teacher"})
    assert r.status_code == 200
    assert phone.get("/api/me").status_code == 401
    with ApiClient(base_url) as c:
        c.login(aide.email)
        me = c.get("/api/me").json()
        assert me["role"] == "teacher"
        assert me["home"] == "/teacher"
    assert (
        admin.post(f"/api/admin/users/{aide.id}/role", json={"role": "wizard"}).status_code == 400
    )
    mine = admin.post(f"/api/admin/users/{classroom.admin.id}/role", json={"role": "aide"})
    assert mine.status_code == 400


def test_deactivation_ends_sessions_and_refuses_login_until_reactivated(
    client_for: Any, classroom: Classroom, factory: Factory, base_url: str
) -> None:
    teacher = factory.user("teacher")
    laptop = client_for(teacher)
    admin = client_for(classroom.admin)
    assert admin.post(f"/api/admin/users/{teacher.id}/deactivate").status_code == 200
    assert laptop.get("/api/me").status_code == 401
    with ApiClient(base_url) as c:
        r = c.post(
            "/api/auth/login",
            json={"email": teacher.email, "password": "correct horse battery staple"},
        )
        assert r.status_code == 401
    assert admin.post(f"/api/admin/users/{teacher.id}/reactivate").status_code == 200
    with ApiClient(base_url) as c:
        c.login(teacher.email)
    assert admin.post(f"/api/admin/users/{classroom.admin.id}/deactivate").status_code == 400
    listed = {u["id"]: u for u in admin.get("/api/admin/users").json()}
    assert listed[teacher.id]["is_active"] is True


def test_create_student_checks_its_fields(client_for: Any, classroom: Classroom) -> None:
    admin = client_for(classroom.admin)
    ok = admin.post(
        "/api/admin/students",
        json={
            "first_name": "Amara",
            "last_name": "Okafor",
            "grade": "4",
            "date_of_birth": "2016-03-02",
            "external_id": f"S-{os.urandom(3).hex()}",
        },
    )
    assert ok.status_code == 201, ok.text
    dup = admin.post(
        "/api/admin/students",
        json={"first_name": "A", "last_name": "B", "external_id": ok.json()["external_id"]},
    )
    assert dup.status_code == 409
    bad = [
        {"first_name": "", "last_name": "B"},
        {"first_name": "A" * 101, "last_name": "B"},
        {"first_name": "A", "last_name": "B", "date_of_birth": "1900-01-01"},
        {"first_name": "A", "last_name": "B", "school_id": 1},
        {"first_name": "A", "last_name": "B", "external_id": "=HYPERLINK(x)"},
    ]
    for body in bad:
        assert admin.post("/api/admin/students", json=body).status_code == 400, body


def test_devices_can_be_revoked_from_the_admin_pages(
    client_for: Any, classroom: Classroom, factory: Factory
) -> None:
    aide = factory.user("aide", name="Dana Phone")
    phone = client_for(aide)
    device_id = phone.get("/api/me").json()["device_id"]
    admin = client_for(classroom.admin)
    page = admin.get("/admin/devices", headers=HTML)
    assert page.status_code == 200
    assert "Dana Phone" in page.text
    assert f'action="/admin/devices/{device_id}/revoke"' in page.text
    r = admin.post(f"/admin/devices/{device_id}/revoke", headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/devices?done=device"
    assert phone.get("/api/me").status_code == 401
    assert "Device revoked" in admin.get(r.headers["location"], headers=HTML).text


def test_admin_pages_work_as_plain_forms(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    admin = client_for(classroom.admin)
    home = admin.get("/admin", headers=HTML)
    assert home.status_code == 200
    assert "School admin" in home.text
    # Every form on the pages carries the CSRF field; every input has a label.
    for path in ("/admin/people", "/admin/students", "/admin/invitations"):
        page = admin.get(path, headers=HTML).text
        assert page.count("<form") == page.count('name="_csrf_token"')
        for input_id in re.findall(r'<(?:input|select)[^>]*\sid="([^"]+)"', page):
            assert f'for="{input_id}"' in page, (path, input_id)
    # Add a student (with markup in the name: shown as text).
    r = admin.post(
        "/admin/students",
        data={"first_name": "<script>alert(1)</script>", "last_name": "Okafor", "grade": "2"},
        headers=HTML,
    )
    assert r.status_code == 303
    student_page = admin.get(r.headers["location"], headers=HTML)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in student_page.text
    assert "<script>alert(1)" not in student_page.text
    student_id = int(r.headers["location"].split("/")[3].split("?")[0])
    # Link an aide, end the link, see it in the history.
    aide = factory.user("aide", name="Rowan Aide")
    added = admin.post(
        f"/admin/students/{student_id}/links",
        data={"kind": "assignment", "user_id": str(aide.id)},
        headers=HTML,
    )
    assert added.status_code == 303
    link_id = sql.execute(
        "SELECT id FROM assignment WHERE aide_id = %s AND student_id = %s", (aide.id, student_id)
    ).fetchone()
    assert link_id is not None
    ended = admin.post(f"/admin/links/assignment/{link_id[0]}/end", headers=HTML)
    assert ended.status_code == 303
    history = admin.get(ended.headers["location"], headers=HTML).text
    assert "Rowan Aide" in history
    assert "Link ended" in history
    # Invite from the page: the link is shown to copy.
    invited = admin.post(
        "/admin/invitations",
        data={"email": "new.aide@example.test", "role": "aide", "name": "New Aide"},
        headers=HTML,
    )
    assert invited.status_code == 200
    assert "/invite/" in invited.text
    # Role change from the page.
    moved = admin.post(f"/admin/people/{aide.id}/role", data={"role": "teacher"}, headers=HTML)
    assert moved.status_code == 303
    assert sql.execute("SELECT role FROM membership WHERE user_id = %s", (aide.id,)).fetchone() == (
        "teacher",
    )
    # Bad form input is a clear 4xx page, not a 500.
    bad = admin.post(f"/admin/people/{aide.id}/role", data={"role": "king"}, headers=HTML)
    assert bad.status_code == 400
    extra = admin.post(
        "/admin/students", data={"first_name": "A", "last_name": "B", "x": "1"}, headers=HTML
    )
    assert extra.status_code == 400
    wrong_date = admin.post(
        "/admin/students",
        data={"first_name": "A", "last_name": "B", "date_of_birth": "2020-02-31"},
        headers=HTML,
    )
    assert wrong_date.status_code == 400


def test_invitations_can_be_cancelled(client_for: Any, classroom: Classroom, base_url: str) -> None:
    admin = client_for(classroom.admin)
    link = admin.post(
        "/api/invites", json={"email": "cancel.me@example.test", "role": "aide"}
    ).json()
    listed = {i["id"]: i for i in admin.get("/api/admin/invitations").json()}
    assert listed[link["id"]]["status"] == "pending"
    assert admin.post(f"/api/admin/invitations/{link['id']}/cancel").status_code == 200
    listed = {i["id"]: i for i in admin.get("/api/admin/invitations").json()}
    assert listed[link["id"]]["status"] == "expired"
    with ApiClient(base_url) as c:
        path = "/invite/" + link["url"].rsplit("/", 1)[1]
        assert c.get(path).status_code == 410


def test_the_admin_sees_and_ends_a_providers_access_through_a_service(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    """A teacher naming a provider on a service gives that provider the student: the
    admin's link view shows it (which service, since when) and can end it, audited."""
    student = classroom.student
    speech = factory.user("provider", name="Pat Speech")
    teacher = client_for(classroom.teacher)
    r = teacher.post(
        f"/api/ieps/{student.iep_id}/services",
        json={"service_type": "Speech therapy", "minutes": 30, "period": "week",
              "provider_id": speech.id},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    service_id = r.json()["id"]
    pat = client_for(speech)
    assert pat.get(f"/api/students/{student.id}").status_code == 200

    admin = client_for(classroom.admin)
    [access] = [
        s
        for s in admin.get(f"/api/admin/students/{student.id}/links").json()["services"]
        if s["service_id"] == service_id
    ]
    assert (access["provider_id"], access["service_type"]) == (speech.id, "Speech therapy")
    assert access["since"] is not None
    assert (access["ended_at"], access["current"]) == (None, True)
    page = admin.get(f"/admin/students/{student.id}", headers=HTML).text
    assert "Providers through a service" in page
    assert "Pat Speech</strong> (provider) · Speech therapy" in page
    assert f'action="/admin/services/{service_id}/provider/end"' in page

    # Another school's admin cannot end it; a service naming nobody has nothing to end.
    stranger = client_for(Factory(sql).user("admin"))
    assert stranger.post(f"/api/admin/services/{service_id}/provider/end").status_code == 404
    bare = teacher.post(
        f"/api/ieps/{student.iep_id}/services",
        json={"service_type": "OT", "minutes": 30, "period": "week"},
    ).json()["id"]
    assert admin.post(f"/api/admin/services/{bare}/provider/end").status_code == 404
    assert pat.get(f"/api/students/{student.id}").status_code == 200

    r = admin.post(f"/admin/services/{service_id}/provider/end", data={}, headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"] == f"/admin/students/{student.id}?done=service_ended"
    assert pat.get(f"/api/students/{student.id}").status_code == 404
    assert admin.post(f"/api/admin/services/{service_id}/provider/end").json() == {
        "student_id": student.id
    }  # already ended: nothing more happens
    ended = sql.execute(
        "SELECT student_id, detail FROM audit_log WHERE actor_id = %s AND action = 'end_link' "
        "AND record_type = 'service_provider' AND record_id = %s",
        (classroom.admin.id, str(service_id)),
    ).fetchall()
    assert ended == [(student.id, {"user_id": speech.id})]
    kept = sql.execute("SELECT provider_id FROM service WHERE id = %s", (service_id,)).fetchone()
    assert kept == (speech.id,)  # the service still says who delivered it
    [access] = [
        s
        for s in admin.get(f"/api/admin/students/{student.id}/links").json()["services"]
        if s["service_id"] == service_id
    ]
    assert access["ended_at"] is not None
    assert access["current"] is False
    page = admin.get(f"/admin/students/{student.id}?done=service_ended", headers=HTML).text
    assert "access through this service has ended" in page
    assert f'action="/admin/services/{service_id}/provider/end"' not in page
    # The teacher's IEP page says so next to the provider's name.
    iep_page = teacher.get(f"/teacher/students/{student.id}", headers=HTML).text
    assert 'Pat Speech <span class="hint">(access ended ' in iep_page


def test_a_teacher_may_name_only_an_active_provider_of_their_school(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    inactive = factory.user("provider")
    sql.execute("UPDATE app_user SET is_active = false WHERE id = %s", (inactive.id,))
    elsewhere = Factory(sql).user("provider")
    teacher = client_for(classroom.teacher)
    before = sql.execute(
        "SELECT count(*) FROM service WHERE student_id = %s", (classroom.student.id,)
    ).fetchone()
    for provider in (inactive, elsewhere, classroom.aide, classroom.parent):
        r = teacher.post(
            f"/api/ieps/{classroom.student.iep_id}/services",
            json={"service_type": "OT", "minutes": 30, "period": "week",
                  "provider_id": provider.id},
        )  # fmt: skip
        assert r.status_code == 400
        assert r.json()["detail"] == "Choose a provider or teacher from your school."
        assert client_for(elsewhere).get(f"/api/students/{classroom.student.id}").status_code == 404
    after = sql.execute(
        "SELECT count(*) FROM service WHERE student_id = %s", (classroom.student.id,)
    ).fetchone()
    assert after == before
