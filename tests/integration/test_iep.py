"""IEPs through the student-record API: editing flows, validation rules, roles and scope."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory

TODAY = date.today()
START = TODAY.isoformat()
END = (TODAY + timedelta(days=364)).isoformat()


def counts(sql: psycopg.Connection[Any], school_id: int) -> dict[str, int]:
    """Rows of every IEP table in one school (to prove a refused request wrote nothing)."""
    out = {}
    for table in ("iep", "goal", "objective", "accommodation", "service"):
        row = sql.execute(f"SELECT count(*) FROM {table} WHERE school_id = %s", (school_id,))
        out[table] = row.fetchone()[0]  # type: ignore[index]
    return out


def goal_row(sql: psycopg.Connection[Any], goal_id: int) -> dict[str, Any]:
    cur = sql.execute(
        """SELECT area, description, measurement, baseline, target, mastery_criterion,
                  rating_max, task_steps, rating_anchors, home_practice, active
             FROM goal WHERE id = %s""",
        (goal_id,),
    )
    row = cur.fetchone()
    assert row is not None
    return dict(zip([d.name for d in cur.description or []], row, strict=True))


def new_iep(c: ApiClient, student_id: int, status: str = "draft") -> int:
    r = c.post(
        f"/api/students/{student_id}/ieps",
        json={"start_date": START, "end_date": END, "status": status},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_teacher_builds_a_whole_iep_and_reads_it_back(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    student = factory.student("Lena", with_iep=False)
    factory.caseload(classroom.teacher, student)
    iep_id = new_iep(teacher, student.id)

    goals: list[dict[str, Any]] = [
        {"area": "Communication", "description": "Requests help", "measurement": "trials"},
        {"area": "Behavior", "description": "Raises hand", "measurement": "frequency"},
        {"area": "Attention", "description": "Stays on task", "measurement": "duration"},
        {
            "area": "Social",
            "description": "Takes turns",
            "measurement": "rating",
            "rating_max": 4,
            "baseline": "1",
            "target": "3",
            "mastery_criterion": "3 or more in 4 of 5 sessions",
            "home_practice": True,
        },
        {
            "area": "Daily living",
            "description": "Packs the backpack",
            "measurement": "task_analysis",
            "task_steps": ["Open bag", "Books in", "Lunchbox in", "Zip"],
        },
    ]
    goal_ids = []
    for g in goals:
        r = teacher.post(f"/api/ieps/{iep_id}/goals", json=g)
        assert r.status_code == 201, r.text
        goal_ids.append(r.json()["id"])
    assert (
        teacher.post(
            f"/api/goals/{goal_ids[0]}/objectives", json={"description": "With a picture card"}
        ).status_code
        == 201
    )
    assert (
        teacher.post(
            f"/api/ieps/{iep_id}/accommodations",
            json={"description": "Extended time", "setting": "Tests"},
        ).status_code
        == 201
    )
    r = teacher.post(
        f"/api/ieps/{iep_id}/services",
        json={
            "service_type": "Speech therapy",
            "minutes": 60,
            "period": "month",
            "provider_id": classroom.provider.id,
        },
    )
    assert r.status_code == 201, r.text
    r = teacher.patch(f"/api/ieps/{iep_id}", json={"status": "active"})
    assert r.status_code == 200, r.text

    record = teacher.get(f"/api/students/{student.id}").json()
    assert record["current_iep_id"] == iep_id
    (iep,) = record["ieps"]
    assert (iep["start_date"], iep["end_date"], iep["status"]) == (START, END, "active")
    assert [g["measurement"] for g in iep["goals"]] == [g["measurement"] for g in goals]
    assert [g["position"] for g in iep["goals"]] == [0, 1, 2, 3, 4]
    rating = iep["goals"][3]
    assert (rating["rating_max"], rating["home_practice"]) == (4, True)
    assert rating["mastery_criterion"] == "3 or more in 4 of 5 sessions"
    assert iep["goals"][4]["task_steps"] == ["Open bag", "Books in", "Lunchbox in", "Zip"]
    assert iep["goals"][0]["objectives"][0]["description"] == "With a picture card"
    assert iep["accommodations"][0]["setting"] == "Tests"
    service = iep["services"][0]
    assert (service["minutes"], service["period"]) == (60, "month")
    assert service["provider_id"] == classroom.provider.id
    assert service["provider_name"] == classroom.provider.name
    # The rows carry the student and school from the server, never from the body.
    rows = sql.execute(
        "SELECT DISTINCT student_id, school_id FROM goal WHERE iep_id = %s", (iep_id,)
    ).fetchall()
    assert rows == [(student.id, classroom.teacher.school_id)]
    assert sql.execute("SELECT created_by FROM iep WHERE id = %s", (iep_id,)).fetchone() == (
        classroom.teacher.id,
    )


def test_goal_measurement_rules_are_enforced_and_nothing_is_written(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    iep_id = classroom.student.iep_id
    base = {"area": "Math", "description": "Counts to 20"}
    bad: list[tuple[dict[str, Any], str]] = [
        ({"measurement": "rating"}, "top score"),
        ({"measurement": "rating", "rating_max": 1}, ">= 2"),
        ({"measurement": "rating", "rating_max": 11}, "<= 10"),
        ({"measurement": "trials", "rating_max": 5}, "Only rating goals"),
        ({"measurement": "task_analysis"}, "between 1 and 30 steps"),
        ({"measurement": "task_analysis", "task_steps": []}, "between 1 and 30 steps"),
        ({"measurement": "task_analysis", "task_steps": ["s"] * 31}, "length <= 30"),
        ({"measurement": "task_analysis", "task_steps": ["x" * 121]}, "length <= 120"),
        ({"measurement": "task_analysis", "task_steps": ["   "]}, "may not be blank"),
        ({"measurement": "task_analysis", "task_steps": [""]}, "length >= 1"),
        ({"measurement": "duration", "task_steps": ["a"]}, "Only task-analysis goals"),
        ({"measurement": "frequency", "task_steps": ["a"]}, "Only task-analysis goals"),
        ({"measurement": "stars"}, "measurement"),
        ({"measurement": "trials", "area": "   "}, "may not be blank"),
        ({"measurement": "trials", "area": "a" * 81}, "length <= 80"),
        ({"measurement": "trials", "description": "d" * 2001}, "length <= 2000"),
        ({"measurement": "trials", "baseline": "b" * 501}, "length <= 500"),
        ({"measurement": "frequency", "direction": "sideways"}, "direction"),
        ({"measurement": "frequency", "measure_name": "m" * 81}, "length <= 80"),
        ({"measurement": "frequency", "continuous": "yes"}, "continuous"),
    ]
    before = counts(sql, classroom.student.school_id)
    for extra, needle in bad:
        r = teacher.post(f"/api/ieps/{iep_id}/goals", json={**base, **extra})
        assert r.status_code == 400, (extra, r.text)
        assert needle in r.json()["detail"], (extra, r.json())
    assert counts(sql, classroom.student.school_id) == before
    good: list[dict[str, Any]] = [
        {"measurement": "rating", "rating_max": 2},
        {"measurement": "rating", "rating_max": 10},
        {"measurement": "task_analysis", "task_steps": ["s"] * 30},
        {"measurement": "task_analysis", "task_steps": ["x" * 120]},
        {"measurement": "frequency", "direction": "decrease", "measure_name": "call-outs"},
        {"measurement": "duration", "continuous": True},
    ]
    for extra in good:
        r = teacher.post(f"/api/ieps/{iep_id}/goals", json={**base, **extra})
        assert r.status_code == 201, (extra, r.text)
    stored = sql.execute(
        "SELECT measurement, direction, measure_name, continuous FROM goal WHERE iep_id = %s"
        " AND measurement IN ('frequency', 'duration') ORDER BY id DESC LIMIT 2",
        (iep_id,),
    ).fetchall()
    assert stored == [
        ("duration", "increase", "", True),
        ("frequency", "decrease", "call-outs", False),
    ]


def test_iep_dates_must_be_sane_and_in_order(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    sid = classroom.student.id
    before = counts(sql, classroom.student.school_id)
    cases = [
        ({"start_date": END, "end_date": START}, "end date must be on or after the start date"),
        ({"start_date": "1900-09-01", "end_date": END}, "start date must be on or after 1990"),
        ({"start_date": START, "end_date": "2100-01-01"}, "before 2100-01-01"),
        ({"start_date": START, "end_date": "2100-06-30"}, "before 2100-01-01"),
        ({"start_date": "2026-02-30", "end_date": END}, "date"),
        ({"start_date": START}, "end_date"),
        ({"start_date": START, "end_date": END, "status": "approved"}, "status"),
    ]
    for body, needle in cases:
        r = teacher.post(f"/api/students/{sid}/ieps", json=body)
        assert r.status_code == 400, (body, r.text)
        assert needle in r.json()["detail"], (body, r.json())
    iep_id = classroom.student.iep_id
    old = sql.execute("SELECT start_date, end_date FROM iep WHERE id = %s", (iep_id,)).fetchone()
    # A patch is checked against the dates it leaves in place.
    r = teacher.patch(f"/api/ieps/{iep_id}", json={"end_date": "1995-01-01"})
    assert r.status_code == 400
    assert "end date must be on or after the start date" in r.json()["detail"]
    r = teacher.patch(f"/api/ieps/{iep_id}", json={"start_date": "1900-01-01"})
    assert r.status_code == 400
    assert (
        sql.execute("SELECT start_date, end_date FROM iep WHERE id = %s", (iep_id,)).fetchone()
        == old
    )
    assert counts(sql, classroom.student.school_id) == before


def test_a_student_has_at_most_one_active_iep(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    sid = classroom.student.id
    old_iep = classroom.student.iep_id
    r = teacher.post(
        f"/api/students/{sid}/ieps", json={"start_date": START, "end_date": END, "status": "active"}
    )
    assert r.status_code == 409
    assert "already has an active IEP" in r.json()["detail"]
    draft = new_iep(teacher, sid)
    assert teacher.patch(f"/api/ieps/{draft}", json={"status": "active"}).status_code == 409
    assert teacher.patch(f"/api/ieps/{old_iep}", json={"status": "closed"}).status_code == 200
    assert teacher.patch(f"/api/ieps/{draft}", json={"status": "active"}).status_code == 200
    statuses = dict(
        sql.execute("SELECT id, status FROM iep WHERE student_id = %s", (sid,)).fetchall()
    )
    assert statuses == {old_iep: "closed", draft: "active"}
    assert teacher.get(f"/api/students/{sid}").json()["current_iep_id"] == draft


def test_a_closed_iep_refuses_new_content_until_reopened(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    iep_id = classroom.student.iep_id
    goal_id = classroom.student.goals["trials"]
    assert teacher.patch(f"/api/ieps/{iep_id}", json={"status": "closed"}).status_code == 200
    before = counts(sql, classroom.student.school_id)
    refused = [
        teacher.post(
            f"/api/ieps/{iep_id}/goals",
            json={"area": "A", "description": "B", "measurement": "trials"},
        ),
        teacher.patch(f"/api/goals/{goal_id}", json={"target": "9/10"}),
        teacher.post(f"/api/goals/{goal_id}/objectives", json={"description": "x"}),
        teacher.post(f"/api/ieps/{iep_id}/accommodations", json={"description": "x"}),
        teacher.post(
            f"/api/ieps/{iep_id}/services",
            json={"service_type": "OT", "minutes": 30, "period": "week"},
        ),
    ]
    assert [r.status_code for r in refused] == [409] * 5
    assert "closed" in refused[0].json()["detail"]
    assert counts(sql, classroom.student.school_id) == before
    assert teacher.patch(f"/api/ieps/{iep_id}", json={"status": "active"}).status_code == 200
    assert teacher.patch(f"/api/goals/{goal_id}", json={"target": "9/10"}).status_code == 200


def test_goals_are_deactivated_never_deleted(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    goal_id = classroom.student.goals["frequency"]
    r = teacher.patch(f"/api/goals/{goal_id}", json={"active": False})
    assert r.status_code == 200
    assert goal_row(sql, goal_id)["active"] is False
    goals = teacher.get(f"/api/students/{classroom.student.id}").json()["ieps"][0]["goals"]
    assert {g["id"]: g["active"] for g in goals}[goal_id] is False
    assert teacher.patch(f"/api/goals/{goal_id}", json={"active": True}).status_code == 200
    assert goal_row(sql, goal_id)["active"] is True
    actions = [
        r[0]
        for r in sql.execute(
            "SELECT action FROM audit_log WHERE record_type = 'goal' AND record_id = %s ORDER BY id",
            (str(goal_id),),
        ).fetchall()
    ]
    assert actions == ["deactivate", "activate"]
    # There is no route that deletes a goal.
    assert teacher.delete(f"/api/goals/{goal_id}").status_code == 405


def test_rating_anchors_are_optional_one_per_score_and_reach_the_phone(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    from tests.integration.test_sync import Device

    teacher = client_for(classroom.teacher)
    iep_id = classroom.student.iep_id
    base = {"area": "Social", "description": "Takes turns", "measurement": "rating"}
    for extra, needle in (
        ({"rating_max": 2, "rating_anchors": ["no", "yes"]}, "one anchor per score"),
        ({"rating_max": 2, "rating_anchors": ["a", "b", "c", "d"]}, "one anchor per score"),
        ({"rating_max": 2, "rating_anchors": ["a", "b", "x" * 41]}, "length <= 40"),
        ({"measurement": "trials", "rating_anchors": ["a", "b"]}, "Only rating goals"),
    ):
        r = teacher.post(f"/api/ieps/{iep_id}/goals", json={**base, **extra})
        assert r.status_code == 400, (extra, r.text)
        assert needle in r.json()["detail"], (extra, r.json())
    anchors = ["not yet", "with help", " on their own "]
    r = teacher.post(
        f"/api/ieps/{iep_id}/goals", json={**base, "rating_max": 2, "rating_anchors": anchors}
    )
    assert r.status_code == 201, r.text
    goal_id = r.json()["id"]
    assert goal_row(sql, goal_id)["rating_anchors"] == ["not yet", "with help", "on their own"]
    # A new top score needs anchors to match; dropping them is fine.
    r = teacher.patch(f"/api/goals/{goal_id}", json={"rating_max": 3})
    assert r.status_code == 400
    assert "one anchor per score" in r.json()["detail"]
    r = teacher.patch(f"/api/goals/{goal_id}", json={"rating_anchors": ["0", "", "2"]})
    assert r.status_code == 200, r.text
    # The aide's phone gets them with the goal; a goal without anchors has an empty list.
    goals = {
        g["id"]: g for g in Device(client_for(classroom.aide)).sync(pull=True)["changes"]["goals"]
    }
    assert goals[goal_id]["rating_anchors"] == ["0", "", "2"]
    assert goals[classroom.student.goals["rating"]]["rating_anchors"] == []
    # Another measurement type drops them.
    r = teacher.patch(f"/api/goals/{goal_id}", json={"measurement": "frequency"})
    assert r.status_code == 200, r.text
    assert goal_row(sql, goal_id)["rating_anchors"] == []


def test_goal_edits_merge_and_follow_the_measurement_rules(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    rating_goal = classroom.student.goals["rating"]
    # Switching type drops the scale that no longer applies (no data recorded yet).
    r = teacher.patch(f"/api/goals/{rating_goal}", json={"measurement": "trials"})
    assert r.status_code == 200, r.text
    row = goal_row(sql, rating_goal)
    assert (row["measurement"], row["rating_max"]) == ("trials", None)
    # To task analysis without steps: refused, nothing changed.
    r = teacher.patch(f"/api/goals/{rating_goal}", json={"measurement": "task_analysis"})
    assert r.status_code == 400
    assert "between 1 and 30 steps" in r.json()["detail"]
    assert goal_row(sql, rating_goal)["measurement"] == "trials"
    r = teacher.patch(
        f"/api/goals/{rating_goal}",
        json={"measurement": "task_analysis", "task_steps": [" Look ", "Point"]},
    )
    assert r.status_code == 200
    assert goal_row(sql, rating_goal)["task_steps"] == ["Look", "Point"]
    r = teacher.patch(f"/api/goals/{rating_goal}", json={"rating_max": 5})
    assert r.status_code == 400
    assert "Only rating goals" in r.json()["detail"]
    r = teacher.patch(f"/api/goals/{rating_goal}", json={"area": "  "})
    assert r.status_code == 400


def test_measurement_type_is_locked_once_data_is_recorded(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    goal_id = classroom.student.goals["trials"]
    session_id = uuid.uuid4()
    now = datetime.now(UTC)
    sql.execute(
        """INSERT INTO data_session (id, school_id, student_id, staff_id, opened_at)
           VALUES (%s, %s, %s, %s, %s)""",
        (session_id, classroom.student.school_id, classroom.student.id, classroom.aide.id, now),
    )
    sql.execute(
        """INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id, user_id,
                                    kind, outcome, prompt, device_time, recorded_at)
           VALUES (%s, %s, %s, %s, %s, %s, 'trial', 'correct', 'independent', %s, %s)""",
        (
            uuid.uuid4(),
            classroom.student.school_id,
            classroom.student.id,
            session_id,
            goal_id,
            classroom.aide.id,
            now,
            now,
        ),
    )
    r = teacher.patch(f"/api/goals/{goal_id}", json={"measurement": "frequency"})
    assert r.status_code == 409
    assert "cannot change" in r.json()["detail"]
    assert goal_row(sql, goal_id)["measurement"] == "trials"
    # Other edits stay possible.
    assert teacher.patch(f"/api/goals/{goal_id}", json={"target": "9/10"}).status_code == 200


def test_providers_and_aides_read_goals_but_cannot_edit(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    iep_id = classroom.student.iep_id
    goal_id = classroom.student.goals["trials"]
    before = counts(sql, classroom.student.school_id)
    for role in ("provider", "aide"):
        c = client_for(classroom.by_role(role))
        record = c.get(f"/api/students/{classroom.student.id}")
        assert record.status_code == 200
        assert {g["id"] for g in record.json()["ieps"][0]["goals"]} == set(
            classroom.student.goals.values()
        )
        writes = [
            c.post(
                f"/api/students/{classroom.student.id}/ieps",
                json={"start_date": START, "end_date": END},
            ),
            c.patch(f"/api/ieps/{iep_id}", json={"status": "closed"}),
            c.post(
                f"/api/ieps/{iep_id}/goals",
                json={"area": "A", "description": "B", "measurement": "trials"},
            ),
            c.patch(f"/api/goals/{goal_id}", json={"active": False}),
            c.post(f"/api/goals/{goal_id}/objectives", json={"description": "x"}),
            c.post(f"/api/ieps/{iep_id}/accommodations", json={"description": "x"}),
        ]
        assert [w.status_code for w in writes] == [403] * 6, role
    parent = client_for(classroom.parent)
    assert parent.get(f"/api/students/{classroom.student.id}").status_code == 403
    assert parent.patch(f"/api/goals/{goal_id}", json={"active": False}).status_code == 403
    assert counts(sql, classroom.student.school_id) == before
    assert goal_row(sql, goal_id)["active"] is True


def test_teacher_removed_from_caseload_loses_access_on_the_next_request(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    sid = classroom.student.id
    goal_id = classroom.student.goals["trials"]
    assert teacher.get(f"/api/students/{sid}").status_code == 200
    assert [s["id"] for s in teacher.get("/api/students").json()] == [sid]
    sql.execute(
        "UPDATE caseload_link SET ends_at = now() WHERE teacher_id = %s AND student_id = %s",
        (classroom.teacher.id, sid),
    )
    assert teacher.get(f"/api/students/{sid}").status_code == 404
    assert teacher.patch(f"/api/goals/{goal_id}", json={"target": "x"}).status_code == 404
    assert teacher.get("/api/students").json() == []
    assert goal_row(sql, goal_id)["target"] == "8/10"


def test_records_out_of_scope_or_in_another_school_are_not_found(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    admin = client_for(classroom.admin)
    elsewhere = Factory(sql).student("Zoe")
    other = classroom.other
    assert other.iep_id
    assert elsewhere.iep_id
    for c, student in ((teacher, other), (teacher, elsewhere), (admin, elsewhere)):
        responses = [
            c.get(f"/api/students/{student.id}"),
            c.patch(f"/api/ieps/{student.iep_id}", json={"status": "closed"}),
            c.patch(f"/api/goals/{student.goals['trials']}", json={"active": False}),
            c.post(f"/api/goals/{student.goals['trials']}/objectives", json={"description": "x"}),
        ]
        assert [r.status_code for r in responses] == [404] * 4
        assert (
            responses[0].json()["detail"] == "No such student, or you do not have access to them."
        )
    # Ids that do not exist at all answer the same.
    assert teacher.patch("/api/ieps/999999999", json={"status": "closed"}).status_code == 404
    assert teacher.get("/api/students/999999999").status_code == 404
    # The admin's scope is the whole school.
    assert admin.get(f"/api/students/{other.id}").status_code == 200
    assert {s["id"] for s in admin.get("/api/students").json()} == {
        classroom.student.id,
        other.id,
    }
    statuses = sql.execute(
        "SELECT DISTINCT status FROM iep WHERE id = ANY(%s)", ([other.iep_id, elsewhere.iep_id],)
    ).fetchall()
    assert statuses == [("active",)]


def test_a_service_provider_must_be_one_of_the_schools_providers(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    iep_id = classroom.student.iep_id
    outsider = Factory(sql).user("provider")
    inactive = Factory(sql, school_id=classroom.student.school_id).user("provider")
    sql.execute("UPDATE app_user SET is_active = false WHERE id = %s", (inactive.id,))
    before = counts(sql, classroom.student.school_id)
    refused = (
        classroom.aide.id,
        classroom.admin.id,
        classroom.parent.id,
        outsider.id,
        inactive.id,
        999999999,
    )
    for provider_id in refused:
        r = teacher.post(
            f"/api/ieps/{iep_id}/services",
            json={
                "service_type": "OT",
                "minutes": 30,
                "period": "week",
                "provider_id": provider_id,
            },
        )
        assert r.status_code == 400
        assert r.json()["detail"] == "Choose a provider or teacher from your school."
    for body, needle in (
        ({"minutes": 0}, ">= 1"),
        ({"minutes": -30}, ">= 1"),
        ({"minutes": 10001}, "<= 10000"),
        ({"period": "day"}, "period"),
        ({"service_type": ""}, "length >= 1"),
    ):
        r = teacher.post(
            f"/api/ieps/{iep_id}/services",
            json={"service_type": "OT", "minutes": 30, "period": "week", **body},
        )
        assert r.status_code == 400, body
        assert needle in r.json()["detail"], (body, r.json())
    assert counts(sql, classroom.student.school_id) == before
    r = teacher.post(
        f"/api/ieps/{iep_id}/services",
        json={"service_type": "OT", "minutes": 30, "period": "week"},
    )
    assert r.status_code == 201
    # Teachers deliver services too (specialized instruction).
    r = teacher.post(
        f"/api/ieps/{iep_id}/services",
        json={
            "service_type": "Specialized academic instruction",
            "minutes": 300,
            "period": "week",
            "provider_id": classroom.teacher.id,
        },
    )
    assert r.status_code == 201
    provider = sql.execute("SELECT provider_id FROM service WHERE id = %s", (r.json()["id"],))
    assert provider.fetchone() == (classroom.teacher.id,)


def test_two_editors_activating_two_ieps_at_once_leave_one_active(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    teacher = client_for(classroom.teacher)
    admin = client_for(classroom.admin)
    sid = classroom.student.id
    assert (
        teacher.patch(
            f"/api/ieps/{classroom.student.iep_id}", json={"status": "closed"}
        ).status_code
        == 200
    )
    for _ in range(5):
        drafts = [new_iep(teacher, sid), new_iep(admin, sid)]
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(
                    lambda pair: pair[0].patch(f"/api/ieps/{pair[1]}", json={"status": "active"}),
                    zip((teacher, admin), drafts, strict=True),
                )
            )
        assert sorted(r.status_code for r in results) == [200, 409]
        active = sql.execute(
            "SELECT id FROM iep WHERE student_id = %s AND status = 'active'", (sid,)
        ).fetchall()
        assert len(active) == 1
        sql.execute("UPDATE iep SET status = 'closed' WHERE student_id = %s", (sid,))


def test_the_openapi_schema_documents_the_iep_bodies(client: ApiClient) -> None:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    bodies = {
        ("/api/students/{student_id}/ieps", "post"): "IepIn",
        ("/api/ieps/{iep_id}", "patch"): "IepPatch",
        ("/api/ieps/{iep_id}/goals", "post"): "GoalIn",
        ("/api/goals/{goal_id}", "patch"): "GoalPatch",
        ("/api/goals/{goal_id}/objectives", "post"): "ObjectiveIn",
        ("/api/ieps/{iep_id}/accommodations", "post"): "AccommodationIn",
        ("/api/ieps/{iep_id}/services", "post"): "ServiceIn",
    }
    for (path, method), name in bodies.items():
        body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].endswith("/" + name), (path, body)
    goal = schema["components"]["schemas"]["GoalIn"]
    assert goal["properties"]["task_steps"]["maxItems"] == 30
    assert goal["properties"]["area"]["maxLength"] == 80
    assert "student_id" not in goal["properties"]
