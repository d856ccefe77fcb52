"""The teacher's review queue: provenance, approve (one or many), reject with a reason,
corrections that keep the original, locking, and pending corrections."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg

from tests.access.review import make_session, observe, trials
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory

PAGE = {"accept": "text/html"}


def status(sql: psycopg.Connection[Any], session_id: uuid.UUID) -> tuple[Any, ...]:
    row = sql.execute(
        "SELECT review_status, reviewed_by, review_reason FROM data_session WHERE id = %s",
        (session_id,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_queue_cards_group_by_student_with_provenance(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    second_aide = factory.user("aide", name="Bea Aide")
    factory.assign(second_aide, classroom.student)
    a = make_session(
        sql, classroom.student, classroom.aide, offline=True, device_label="Pixel 7 of Ann"
    )
    trials(
        sql,
        a,
        classroom.student,
        classroom.aide,
        [("correct", "independent"), ("incorrect", "verbal")],
    )
    b = make_session(
        sql, classroom.student, second_aide, offline=False, device_label="iPad in room 4"
    )
    observe(sql, b, classroom.student, second_aide, "tally", goal="frequency", delta=1)
    open_one = make_session(sql, classroom.student, classroom.aide, status="open")
    page = client_for(classroom.teacher).get("/teacher/review", headers=PAGE)
    assert page.status_code == 200
    html = page.text
    assert html.count(f"{classroom.student.first_name} {classroom.student.last_name}") >= 1
    assert "Aide " in html
    assert "Bea Aide (aide)" in html
    assert "Pixel 7 of Ann" in html
    assert "iPad in room 4" in html
    assert html.count("Recorded offline") == 1  # a, not b
    assert "1/2 correct · 1 independent" in html
    assert "counted 1 time" in html
    assert "Raises hand before speaking" not in html  # goals go by their short name
    assert "<strong>Behavior</strong>" in html
    assert str(open_one) not in html  # still being recorded: not for review yet
    audited = sql.execute(
        "SELECT count(*) FROM audit_log WHERE actor_id = %s AND record_type = 'review_queue' "
        "AND student_id = %s",
        (classroom.teacher.id, classroom.student.id),
    ).fetchone()
    assert audited is not None
    assert audited[0] == 1
    # Within a student, one recorder's sessions follow each other.
    assert html.index(str(a)) < html.index(str(b)) < html.index("Bea Aide (aide)")


def test_approve_locks_the_session(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sid = make_session(sql, classroom.student, classroom.aide)
    [entry] = trials(sql, sid, classroom.student, classroom.aide, [("correct", "verbal")])
    teacher = client_for(classroom.teacher)
    r = teacher.post("/teacher/review/approve", data={"session_id": str(sid)}, headers=PAGE)
    assert r.status_code in (302, 303)
    assert r.headers["location"].startswith(
        f"/teacher/review/students/{classroom.student.id}/notes"
    )
    assert status(sql, sid)[:2] == ("approved", classroom.teacher.id)
    locked = teacher.post(
        f"/teacher/review/entries/{entry}/correct",
        data={"reason": "late fix", "outcome": "incorrect"},
        headers=PAGE,
    )
    assert locked.status_code == 409
    assert "locked" in locked.text
    assert (
        teacher.post(
            f"/teacher/review/sessions/{sid}/reject", data={"reason": "x"}, headers=PAGE
        ).status_code
        == 409
    )
    page = teacher.get(f"/teacher/review/sessions/{sid}", headers=PAGE).text
    assert "Approved sessions are locked" in page
    assert "Save the fix" not in page
    audit = sql.execute(
        "SELECT count(*) FROM audit_log WHERE record_id = %s AND action = 'approve'", (str(sid),)
    ).fetchone()
    assert audit is not None
    assert audit[0] == 1


def test_reject_with_a_reason(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sid = make_session(sql, classroom.student, classroom.aide)
    teacher = client_for(classroom.teacher)
    empty = teacher.post(
        f"/teacher/review/sessions/{sid}/reject", data={"reason": ""}, headers=PAGE
    )
    assert empty.status_code == 400
    r = teacher.post(
        f"/teacher/review/sessions/{sid}/reject",
        data={"reason": "This was <b>Noah</b>, not Maya"},
        headers=PAGE,
    )
    assert r.status_code in (302, 303)
    assert status(sql, sid) == ("rejected", classroom.teacher.id, "This was <b>Noah</b>, not Maya")
    page = teacher.get(f"/teacher/review/sessions/{sid}", headers=PAGE).text
    assert "This was &lt;b&gt;Noah&lt;/b&gt;, not Maya" in page


def test_correction_keeps_the_original_and_changes_the_result(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sid = make_session(sql, classroom.student, classroom.aide)
    first, _second = trials(
        sql,
        sid,
        classroom.student,
        classroom.aide,
        [("correct", "independent"), ("correct", "verbal")],
    )
    tally = observe(sql, sid, classroom.student, classroom.aide, "tally", goal="frequency", delta=1)
    teacher = client_for(classroom.teacher)
    assert "2/2 correct" in teacher.get(f"/teacher/review/sessions/{sid}", headers=PAGE).text
    r = teacher.post(
        f"/teacher/review/entries/{first}/correct",
        data={
            "reason": "He needed a gesture; it was incorrect",
            "outcome": "incorrect",
            "prompt": "gestural",
        },
        headers=PAGE,
    )
    assert r.status_code in (302, 303)
    removed = teacher.post(
        f"/teacher/review/entries/{tally}/correct",
        data={"reason": "Counted by mistake", "remove": "1"},
        headers=PAGE,
    )
    assert removed.status_code in (302, 303)
    rows = sql.execute(
        "SELECT id, kind, outcome, prompt, supersedes_id, reason, state FROM observation "
        "WHERE session_id = %s ORDER BY id",
        (sid,),
    ).fetchall()
    original = next(r for r in rows if r[0] == first)
    assert original[1:4] == ("trial", "correct", "independent")  # kept, unchanged
    corrections = [r for r in rows if r[1] == "correction"]
    assert {r[4] for r in corrections} == {first, tally}
    replacement = [r for r in rows if r[1] == "trial" and r[4] == first]
    assert len(replacement) == 1
    assert replacement[0][2:4] == ("incorrect", "gestural")
    page = teacher.get(f"/teacher/review/sessions/{sid}", headers=PAGE).text
    assert "1/2 correct" in page  # derived from the corrected events
    assert "counted 1 time" not in page  # the removed tally no longer counts
    assert "He needed a gesture; it was incorrect" in page
    assert re.search(r"<del>Trial · Communication · correct \(on their own\)", page)
    again = teacher.post(
        f"/teacher/review/entries/{first}/correct",
        data={"reason": "twice", "outcome": "no_response"},
        headers=PAGE,
    )
    assert again.status_code == 409
    bad = teacher.post(
        f"/teacher/review/entries/{_second}/correct",
        data={"reason": "x", "outcome": "maybe"},
        headers=PAGE,
    )
    assert bad.status_code == 400


def test_bulk_approve_and_a_foreign_session_approves_nothing(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    other = factory.student("Ivy")
    factory.caseload(classroom.teacher, other)
    factory.assign(classroom.aide, other)
    mine = [
        make_session(sql, classroom.student, classroom.aide),
        make_session(sql, classroom.student, classroom.aide),
        make_session(sql, other, classroom.aide),
    ]
    foreign = make_session(sql, classroom.other, factory.user("aide"))
    teacher = client_for(classroom.teacher)
    refused = teacher.post(
        "/teacher/review/approve",
        data={"session_id": [str(s) for s in [*mine, foreign]]},
        headers=PAGE,
    )
    assert refused.status_code == 404
    assert {status(sql, s)[0] for s in [*mine, foreign]} == {"pending"}
    r = teacher.post(
        "/teacher/review/approve", data={"session_id": [str(s) for s in mine]}, headers=PAGE
    )
    assert r.status_code in (302, 303)
    assert r.headers["location"] == "/teacher/review?done=approved"
    assert {status(sql, s)[0] for s in mine} == {"approved"}
    assert status(sql, foreign)[0] == "pending"


def test_pending_corrections_are_accepted_or_declined(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sid = make_session(sql, classroom.student, classroom.aide, status="approved")
    trials(sql, sid, classroom.student, classroom.aide, [("correct", "independent")])
    late = observe(
        sql,
        sid,
        classroom.student,
        classroom.aide,
        "trial",
        goal="trials",
        outcome="incorrect",
        prompt="verbal",
        state="proposed",
    )
    later = observe(
        sql,
        sid,
        classroom.student,
        classroom.aide,
        "trial",
        goal="trials",
        outcome="incorrect",
        prompt="model",
        state="proposed",
    )
    teacher = client_for(classroom.teacher)
    queue = teacher.get("/teacher/review", headers=PAGE).text
    assert f"/teacher/review/entries/{late}/accept" in queue
    assert "1/1 correct" in teacher.get(f"/teacher/review/sessions/{sid}", headers=PAGE).text
    assert teacher.post(
        f"/teacher/review/entries/{late}/accept", data={}, headers=PAGE
    ).status_code in (302, 303)
    assert teacher.post(
        f"/teacher/review/entries/{later}/decline", data={}, headers=PAGE
    ).status_code in (302, 303)
    states = dict(
        sql.execute(
            "SELECT id, state FROM observation WHERE id IN (%s, %s)", (late, later)
        ).fetchall()
    )
    assert states == {late: "applied", later: "declined"}
    assert "1/2 correct" in teacher.get(f"/teacher/review/sessions/{sid}", headers=PAGE).text
    assert status(sql, sid)[0] == "approved"
    twice = teacher.post(f"/teacher/review/entries/{late}/accept", data={}, headers=PAGE)
    assert twice.status_code == 409


def test_aides_and_parents_cannot_review(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sid = make_session(sql, classroom.student, classroom.aide)
    for role in ("aide", "parent"):
        c: ApiClient = client_for(classroom.by_role(role))
        assert c.post("/teacher/review/approve", data={"session_id": str(sid)}).status_code == 403
    assert status(sql, sid)[0] == "pending"


def test_empty_sessions_stay_out_of_the_queue_until_an_entry_arrives(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    full = make_session(sql, classroom.student, classroom.aide)
    trials(sql, full, classroom.student, classroom.aide, [("correct", "independent")])
    empty = make_session(sql, classroom.student, classroom.aide)
    undone = make_session(sql, classroom.student, classroom.aide)
    op = uuid.uuid4()
    observe(
        sql, undone, classroom.student, classroom.aide, "tally", goal="frequency", delta=1, op_id=op
    )
    observe(sql, undone, classroom.student, classroom.aide, "undo", voids_op_id=op)
    teacher = client_for(classroom.teacher)
    html = teacher.get("/teacher/review", headers=PAGE).text
    assert f'name="session_id" value="{full}"' in html
    for quiet in (empty, undone):  # no live entry: nothing to judge
        assert f'name="session_id" value="{quiet}"' not in html
    assert "Empty sessions (2)" in html
    assert "(1)</span></h1>" in html  # the count is of sessions to review
    # A late entry from a phone brings the session back.
    trials(sql, empty, classroom.student, classroom.aide, [("incorrect", "verbal")])
    html = teacher.get("/teacher/review", headers=PAGE).text
    assert f'name="session_id" value="{empty}"' in html
    assert "Empty sessions (1)" in html


def test_notes_overview_lists_the_caseload_with_sessions_not_yet_reported(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    for _ in range(2):
        sid = make_session(sql, classroom.student, classroom.aide, status="approved")
        trials(sql, sid, classroom.student, classroom.aide, [("correct", "independent")])
    make_session(sql, classroom.other, classroom.aide, status="approved")
    html = client_for(classroom.teacher).get("/teacher/notes", headers=PAGE).text
    assert f'href="/teacher/review/students/{classroom.student.id}/notes"' in html
    assert "2 approved sessions not yet reported" in html
    assert classroom.other.last_name not in html  # not on this teacher's caseload
    audited = sql.execute(
        "SELECT count(*) FROM audit_log WHERE actor_id = %s AND detail->>'page' = '/teacher/notes'",
        (classroom.teacher.id,),
    ).fetchone()
    assert audited is not None
    assert audited[0] == 1
