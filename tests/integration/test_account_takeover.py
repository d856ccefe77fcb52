"""Password links cannot take an account over (issue "Close every hole", point 1).

A teacher may make a reset link for a parent only when every child of that parent is on
the teacher's caseload; otherwise only an admin may. An invitation never sets or changes
an existing account's password. The account holder hears in the app, and by mail where
mail is configured, when a reset link is made for them and when one is used; using a
link voids the account's older ones."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.integration.test_invites import (
    ADDRESS_KEY,
    NEW_PASSWORD,
    accept,
    fresh_email,
    token_path,
)
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory
from tests.support.servers import AppServer


def password_hash(sql: psycopg.Connection[Any], user_id: int) -> str:
    row = sql.execute("SELECT password_hash FROM app_user WHERE id = %s", (user_id,)).fetchone()
    assert row is not None
    return str(row[0])


def links_for(sql: psycopg.Connection[Any], user_id: int) -> int:
    row = sql.execute(
        "SELECT count(*) FROM account_link WHERE kind = 'reset' AND user_id = %s", (user_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_teacher_cannot_reset_a_parent_with_a_child_outside_the_caseload(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    # The parent of Maya (this teacher's) and of Noah (nobody's but the admin's).
    parent = factory.user("parent")
    factory.guardian(parent, classroom.student)
    factory.guardian(parent, classroom.other)
    teacher = client_for(classroom.teacher)

    refused = teacher.post("/api/reset-links", json={"user_id": parent.id})
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    assert links_for(sql, parent.id) == 0
    audited = sql.execute(
        """SELECT count(*) FROM audit_log WHERE actor_id = %s AND action = 'reset_link_refused'
              AND record_id = %s""",
        (classroom.teacher.id, str(parent.id)),
    ).fetchone()
    assert audited == (1,)
    # The same through the families page: no button, and the form post is refused.
    page = teacher.get("/families", headers={"accept": "text/html"})
    assert f"/families/{parent.id}/reset-link" not in page.text
    assert "only a school admin can make a password link" in page.text
    assert f"/families/{classroom.parent.id}/reset-link" in page.text
    form = teacher.post(f"/families/{parent.id}/reset-link", headers={"accept": "text/html"})
    assert form.status_code == 403
    assert links_for(sql, parent.id) == 0

    # Once Noah is on this teacher's caseload too, the teacher may.
    factory.caseload(classroom.teacher, classroom.other)
    assert teacher.post("/api/reset-links", json={"user_id": parent.id}).status_code == 201
    # An admin always may.
    admin = client_for(classroom.admin)
    assert admin.post("/api/reset-links", json={"user_id": parent.id}).status_code == 201


def test_a_teacher_cannot_reset_a_parent_whose_child_is_in_another_school(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    parent = factory.user("parent")
    factory.guardian(parent, classroom.student)
    elsewhere = Factory(sql)
    child = elsewhere.student("Zoe")
    sql.execute(
        "INSERT INTO membership (school_id, user_id, role) VALUES (%s, %s, 'parent')",
        (child.school_id, parent.id),
    )
    elsewhere.guardian(parent, child)
    teacher = client_for(classroom.teacher)
    assert teacher.post("/api/reset-links", json={"user_id": parent.id}).status_code == 403


def test_a_teacher_cannot_reset_a_parent_who_is_also_staff(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    parent = factory.user("parent")
    factory.guardian(parent, classroom.student)
    sql.execute(
        "INSERT INTO membership (school_id, user_id, role) VALUES (%s, %s, 'teacher')",
        (Factory(sql).school_id, parent.id),
    )
    teacher = client_for(classroom.teacher)
    assert teacher.post("/api/reset-links", json={"user_id": parent.id}).status_code == 403


def test_the_takeover_does_not_reach_the_other_child(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    """The attack as it was found: reset, set the password, read the other child."""
    parent = factory.user("parent")
    factory.guardian(parent, classroom.student)
    factory.guardian(parent, classroom.other)
    before = password_hash(sql, parent.id)
    teacher = client_for(classroom.teacher)
    assert teacher.post("/api/reset-links", json={"user_id": parent.id}).status_code == 403
    with ApiClient(str(teacher.base_url)) as attacker:
        r = attacker.post("/api/auth/login", json={"email": parent.email, "password": NEW_PASSWORD})
        assert r.status_code == 401
    assert password_hash(sql, parent.id) == before


def test_an_invitation_never_changes_an_existing_password(
    client_for: Any,
    classroom: Classroom,
    factory: Factory,
    base_url: str,
    sql: psycopg.Connection[Any],
) -> None:
    # A parent with an account (of another child) is invited for this teacher's student.
    parent = factory.user("parent")
    factory.guardian(parent, classroom.other)
    before = password_hash(sql, parent.id)
    teacher = client_for(classroom.teacher)
    r = teacher.post(
        "/api/invites",
        json={"email": parent.email, "role": "parent", "student_id": classroom.student.id},
    )
    assert r.status_code == 201
    path = token_path(r.json()["url"])
    # The link holder does not know the password: refused, nothing changed.
    c, _, done = accept(base_url, path, password=NEW_PASSWORD)
    c.close()
    assert done.status_code in (400, 401)
    assert password_hash(sql, parent.id) == before
    with ApiClient(base_url) as attacker:
        bad = attacker.post(
            "/api/auth/login", json={"email": parent.email, "password": NEW_PASSWORD}
        )
        assert bad.status_code == 401
    # The holder, with their own password: the guardianship is added, the password kept.
    c, _, done = accept(base_url, path, password="correct horse battery staple")
    c.close()
    assert done.status_code == 303
    assert password_hash(sql, parent.id) == before
    guardians = sql.execute(
        "SELECT count(*) FROM guardianship WHERE parent_id = %s AND student_id = %s",
        (parent.id, classroom.student.id),
    ).fetchone()
    assert guardians == (1,)


def test_an_invitation_opened_before_the_account_existed_cannot_sign_in_to_it(
    client_for: Any,
    classroom: Classroom,
    base_url: str,
    sql: psycopg.Connection[Any],
) -> None:
    """The acceptance page judged "no account yet"; by the time the form came back, one
    existed. The link proved no password, so it signs no one in."""
    admin = client_for(classroom.admin)
    email = fresh_email("race")
    first = admin.post("/api/invites", json={"email": email, "role": "teacher"}).json()
    page = ApiClient(base_url)
    try:
        assert "name" in page.get(token_path(first["url"]), headers={"accept": "text/html"}).text
        # Meanwhile the account is made (another invitation accepted).
        second = admin.post(
            "/api/invites", json={"email": fresh_email("other"), "role": "teacher"}
        ).json()
        sql.execute("UPDATE account_link SET email = %s WHERE id = %s", (email, second["id"]))
        c, _, done = accept(base_url, token_path(second["url"]))
        c.close()
        assert done.status_code == 303
        owner_hash = sql.execute(
            "SELECT password_hash FROM app_user WHERE lower(email) = %s", (email,)
        ).fetchone()
        assert owner_hash is not None
        # The first link now needs the account's password, and its holder has none.
        c, _, again = accept(base_url, token_path(first["url"]), password="another passphrase 1")
        c.close()
        assert again.status_code != 303
        assert (
            sql.execute(
                "SELECT password_hash FROM app_user WHERE lower(email) = %s", (email,)
            ).fetchone()
            == owner_hash
        )
    finally:
        page.close()


def test_the_holder_hears_of_a_reset_link_and_of_its_use(
    strict_server: AppServer,
    smtp_sink: tuple[int, list[str]],
    sql: psycopg.Connection[Any],
) -> None:
    f = Factory(sql)
    admin_user = f.user("admin", name="Alma Admin")
    parent = f.user("parent", language="es")
    student = f.student("Mateo")
    f.guardian(parent, student)
    sql.execute("DELETE FROM rate_limit WHERE key = %s", (ADDRESS_KEY,))
    base = strict_server.base_url
    with ApiClient(base) as admin, ApiClient(base) as holder:
        admin.login(admin_user.email)
        holder.login(parent.email)
        assert holder.get("/api/me").json()["notice_pending"] is False
        older = admin.post("/api/reset-links", json={"user_id": parent.id}).json()
        newer = admin.post("/api/reset-links", json={"user_id": parent.id}).json()

        # In the app: a banner on every page, the notice on /account, in their language.
        assert holder.get("/api/me").json()["notice_pending"] is True
        home = holder.get("/parent", headers={"accept": "text/html"})
        assert "Hay novedades sobre la seguridad de su cuenta" in home.text
        notices = holder.get("/api/account/notices").json()
        assert [n["kind"] for n in notices] == ["reset_link_made", "reset_link_made"]
        assert "Alma Admin" in notices[0]["text"]
        account = holder.get("/account", headers={"accept": "text/html"})
        assert "Alma Admin creó un enlace" in account.text
        assert "UTC" not in account.text
        # By mail: the link itself went to the holder.
        assert any(newer["url"] in m for m in smtp_sink[1])

        # Seen: the banner goes.
        assert holder.post("/account/notices/seen").status_code in (302, 303)
        assert holder.get("/api/me").json()["notice_pending"] is False
        assert "Hay novedades" not in holder.get("/parent", headers={"accept": "text/html"}).text

    # The newer link is used ...
    with ApiClient(base) as c:
        done = c.post(token_path(newer["url"]), data={"password": NEW_PASSWORD})
        assert done.status_code == 303
        notices = c.get("/api/account/notices").json()
        assert notices[0]["kind"] == "password_reset"
        assert c.get("/api/me").json()["notice_pending"] is True
    changed = [m for m in smtp_sink[1] if "Subject: Your Tandem password was changed" in m]
    assert any(parent.email in m for m in changed)
    # ... and the older one died with it.
    with ApiClient(base) as late:
        assert late.get(token_path(older["url"])).status_code == 410
        again = late.post(token_path(older["url"]), data={"password": "someone else's 123"})
        assert again.status_code == 410
    with ApiClient(base) as c:
        c.login(parent.email, NEW_PASSWORD)


def test_a_teachers_link_dies_when_the_parent_gains_a_child_outside_the_caseload(
    client_for: Any,
    classroom: Classroom,
    factory: Factory,
    base_url: str,
    sql: psycopg.Connection[Any],
) -> None:
    """The rule is judged again when the link is used (found by review: a link made
    while every child was the teacher's outlived the rule)."""
    parent = factory.user("parent")
    factory.guardian(parent, classroom.student)
    before = password_hash(sql, parent.id)
    teacher = client_for(classroom.teacher)
    made = teacher.post("/api/reset-links", json={"user_id": parent.id})
    assert made.status_code == 201
    factory.guardian(parent, classroom.other)  # now a child outside the caseload
    with ApiClient(base_url) as c:
        used = c.post(token_path(made.json()["url"]), data={"password": NEW_PASSWORD})
        assert used.status_code == 410
        assert "admin" in used.text
    assert password_hash(sql, parent.id) == before
    # An admin's link still works.
    admin = client_for(classroom.admin)
    link = admin.post("/api/reset-links", json={"user_id": parent.id}).json()
    with ApiClient(base_url) as c:
        assert c.post(token_path(link["url"]), data={"password": NEW_PASSWORD}).status_code == 303
