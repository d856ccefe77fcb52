"""Progress notes and the parent's pages: a plain-language summary in the parent's
language, approved data only (pages, note, sync pull), read receipts, settings."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.access.review import make_session, observe, trials
from tests.integration.test_sync import Device
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory
from tests.support.notes import publish_form, shown_digest

PAGE = {"accept": "text/html"}


def approved_session_with_data(sql: psycopg.Connection[Any], room: Classroom) -> uuid.UUID:
    sid = make_session(sql, room.student, room.aide, status="approved")
    trials(
        sql,
        sid,
        room.student,
        room.aide,
        [("correct", "independent"), ("correct", "independent"), ("incorrect", "verbal")],
    )
    observe(sql, sid, room.student, room.aide, "rating", goal="rating", value=4)
    return sid


def publish(
    teacher: ApiClient, room: Classroom, session_ids: list[uuid.UUID], comment: str = ""
) -> Any:
    return publish_form(teacher, room.student.id, session_ids, comment, **PAGE)


def latest_note(sql: psycopg.Connection[Any], room: Classroom) -> int:
    row = sql.execute(
        "SELECT id FROM progress_note WHERE student_id = %s ORDER BY id DESC LIMIT 1",
        (room.student.id,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_note_reads_in_each_guardians_language_with_plain_words(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    abuela = factory.user("parent", language="es")
    factory.guardian(abuela, classroom.student)
    sid = approved_session_with_data(sql, classroom)
    teacher = client_for(classroom.teacher)
    preview = teacher.get(
        f"/teacher/review/students/{classroom.student.id}/notes", headers=PAGE
    ).text
    assert "Practised 3 times in 1 session: 2 correct (67%)." in preview
    # The teacher previews what each family will read, in each of their languages.
    assert "What the family will read in English" in preview
    assert "What the family will read in Spanish (" + abuela.name + ")" in preview
    assert '<div lang="es" class="note-preview" data-lang="es">' in preview
    assert "Practicó 3 veces en 1 sesión: 2 correctas (67 %)." in preview
    r = publish(teacher, classroom, [sid], comment="<script>alert(1)</script> Great effort!")
    assert r.status_code in (302, 303)
    note_id = latest_note(sql, classroom)
    queued = sql.execute(
        "SELECT user_id FROM notification WHERE kind = 'progress_note' AND ref_id = %s",
        (str(note_id),),
    ).fetchall()
    assert {q[0] for q in queued} == {classroom.parent.id, abuela.id}

    english = client_for(classroom.parent).get(f"/parent/notes/{note_id}", headers=PAGE)
    assert english.status_code == 200
    assert 'lang="en"' in english.text
    assert "Practised 3 times in 1 session: 2 correct (67%)." in english.text
    assert "On their own, with no help: 2 of the 2 correct answers." in english.text
    assert "Scored 4.0 out of 5 on average" in english.text
    assert "Most successes came on their own (2 of 2)." in english.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Great effort!" in english.text
    assert "<script>alert(1)" not in english.text
    assert "IEP goal" in english.text  # the one term used is explained

    spanish = client_for(abuela).get(f"/parent/notes/{note_id}", headers=PAGE)
    assert 'lang="es"' in spanish.text
    assert "Practicó 3 veces en 1 sesión: 2 correctas (67 %)." in spanish.text
    assert "Notas de progreso" in spanish.text
    assert "Mensajes" in spanish.text
    assert "meta del IEP" in spanish.text
    assert "Cerrar sesión" in spanish.text
    assert "Log out" not in spanish.text


PREVIEW_BLOCK = re.compile(
    r'<div lang="(\w+)" class="note-preview" data-lang="\w+">(.*?)</div>', re.S
)
SUMMARY_CARD = re.compile(r"<h2>[^<]*</h2>\s*(<p class=\"hint\">.*?)</section>", re.S)
LINE = re.compile(r"<(?:li|p class=\"hint\"|h3|h4|p class=\"goal\")>(.*?)</")


def words(html: str) -> list[str]:
    """The note's sentences as the page shows them (headings, the dates line, each line)."""
    return [w.strip() for w in LINE.findall(html) if w.strip()]


def test_the_published_note_is_the_approved_preview_byte_for_byte_with_a_tie(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    """3 correct on their own, 3 after a model, 1 with a verbal reminder: no help level is
    "most"; on their own and after a model are tied, and the note says so, in the words the
    teacher saw, in both languages."""
    abuela = factory.user("parent", language="es")
    factory.guardian(abuela, classroom.student)
    sid = make_session(sql, classroom.student, classroom.aide, status="approved")
    trials(
        sql,
        sid,
        classroom.student,
        classroom.aide,
        [("correct", "model")] * 3 + [("correct", "independent")] * 3 + [("correct", "verbal")],
    )
    teacher = client_for(classroom.teacher)
    page = teacher.get(f"/teacher/review/students/{classroom.student.id}/notes", headers=PAGE)
    previews = {code: words(block) for code, block in PREVIEW_BLOCK.findall(page.text)}
    assert set(previews) == {"en", "es"}
    tie_en = "Successes came as often on their own and after being shown how (3 each)."
    tie_es = (
        "Los aciertos fueron igual de frecuentes por sí mismo/a y después de ver cómo hacerlo"
        " (3 cada uno)."
    )
    assert tie_en in previews["en"]
    assert tie_es in previews["es"]
    assert not any(line.startswith("Most") for line in previews["en"])
    assert not any("mayoría" in line for line in previews["es"])
    assert publish(teacher, classroom, [sid]).status_code in (302, 303)
    note_id = latest_note(sql, classroom)
    for reader, code in ((classroom.parent, "en"), (abuela, "es")):
        shown = client_for(reader).get(f"/parent/notes/{note_id}", headers=PAGE).text
        card = SUMMARY_CARD.search(shown)
        assert card is not None
        assert words(card.group(1)) == previews[code]


def test_a_note_whose_data_changed_after_the_preview_is_not_published(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sid = approved_session_with_data(sql, classroom)
    teacher = client_for(classroom.teacher)
    seen = shown_digest(teacher, classroom.student.id)
    # A correction is accepted after the teacher read the preview: the figures move.
    trials(sql, sid, classroom.student, classroom.aide, [("incorrect", "independent")])
    stale = teacher.post(
        f"/teacher/review/students/{classroom.student.id}/notes",
        data={"session_id": str(sid), "preview_digest": seen},
        headers=PAGE,
    )
    assert stale.status_code == 409
    assert "Read the new preview" in stale.text
    assert sql.execute(
        "SELECT count(*) FROM progress_note WHERE student_id = %s", (classroom.student.id,)
    ).fetchone() == (0,)
    # With the new preview it goes, and the stored words are the new ones.
    assert publish(teacher, classroom, [sid]).status_code in (302, 303)
    stored = sql.execute(
        "SELECT texts FROM progress_note WHERE student_id = %s", (classroom.student.id,)
    ).fetchone()
    assert stored is not None
    assert (
        "Practised 4 times in 1 session: 2 correct (50%)." in stored[0]["en"]["goals"][0]["lines"]
    )


def test_a_note_says_what_a_count_counts_and_which_way_it_should_move(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    """Not "Counted 7 times" under a goal about raising a hand: call-outs, a behaviour to
    reduce, went from 5 to 2."""
    sql.execute(
        "UPDATE goal SET measure_name = 'call-outs per lesson', direction = 'decrease'"
        " WHERE id = %s",
        (classroom.student.goals["frequency"],),
    )
    sessions = []
    for hours, count in ((30, 5), (6, 2)):
        sid = make_session(
            sql,
            classroom.student,
            classroom.aide,
            status="approved",
            opened=datetime.now(UTC) - timedelta(hours=hours),
        )
        for _ in range(count):
            observe(sql, sid, classroom.student, classroom.aide, "tally", goal="frequency", delta=1)
        sessions.append(sid)
    teacher = client_for(classroom.teacher)
    assert publish(teacher, classroom, sessions).status_code in (302, 303)
    note = (
        client_for(classroom.parent)
        .get(f"/parent/notes/{latest_note(sql, classroom)}", headers=PAGE)
        .text
    )
    assert "Call-outs per lesson: 7 in all over 2 sessions." in note
    assert "Down from 5 in the first session to 2 in the latest: which is the goal." in note
    assert "Counted" not in note


def test_read_receipts_show_who_has_not_read_a_note(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    dad = factory.user("parent", name="Dad Example")
    factory.guardian(dad, classroom.student)
    sid = approved_session_with_data(sql, classroom)
    teacher = client_for(classroom.teacher)
    publish(teacher, classroom, [sid])
    note_id = latest_note(sql, classroom)
    page = teacher.get(f"/teacher/review/students/{classroom.student.id}/notes", headers=PAGE).text
    assert page.count("not read yet") == 2
    home = client_for(classroom.parent).get("/parent", headers=PAGE).text
    assert f"/parent/notes/{note_id}" in home
    assert "New" in home
    parent = client_for(classroom.parent)
    # Fetching the page is no read (prefetchers do that); the page posts it once in view.
    assert parent.get(f"/parent/notes/{note_id}", headers=PAGE).status_code == 200
    page = teacher.get(f"/teacher/review/students/{classroom.student.id}/notes", headers=PAGE).text
    assert page.count("not read yet") == 2
    r = parent.post(f"/api/progress-notes/{note_id}/read")
    assert r.json() == {"note_id": note_id, "read": True}
    assert parent.post(f"/api/progress-notes/{note_id}/read").status_code == 200  # idempotent
    page = teacher.get(f"/teacher/review/students/{classroom.student.id}/notes", headers=PAGE).text
    assert page.count("not read yet") == 1
    assert "Dad Example: <strong>not read yet</strong>" in page


def test_publishing_needs_approved_unreported_sessions(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    pending = make_session(sql, classroom.student, classroom.aide)
    assert publish(teacher, classroom, [pending]).status_code == 409
    sid = approved_session_with_data(sql, classroom)
    assert publish(teacher, classroom, [sid]).status_code in (302, 303)
    assert publish(teacher, classroom, [sid]).status_code == 409  # already in a note
    count = sql.execute(
        "SELECT count(*) FROM progress_note WHERE student_id = %s", (classroom.student.id,)
    ).fetchone()
    assert count is not None
    assert count[0] == 1


def test_parents_never_see_unapproved_data(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    approved = approved_session_with_data(sql, classroom)
    observe(
        sql,
        approved,
        classroom.student,
        classroom.aide,
        "note",
        state="proposed",
        note="PROPOSED-LATE-EDIT",
    )
    hidden: dict[str, uuid.UUID] = {}
    for state in ("open", "pending", "rejected"):
        sid = make_session(sql, classroom.student, classroom.aide, status=state)
        observe(sql, sid, classroom.student, classroom.aide, "note", note=f"SECRET-{state}")
        hidden[state] = sid
    teacher = client_for(classroom.teacher)
    publish(teacher, classroom, [approved, *hidden.values()])
    note_id = latest_note(sql, classroom)
    covered = sql.execute(
        "SELECT session_ids FROM progress_note WHERE id = %s", (note_id,)
    ).fetchone()
    assert covered is not None
    assert covered[0] == [approved]
    parent = client_for(classroom.parent)
    pages = [
        parent.get("/parent", headers=PAGE).text,
        parent.get(f"/parent/notes/{note_id}", headers=PAGE).text,
        parent.get(f"/parent/students/{classroom.student.id}", headers=PAGE).text,
    ]
    for html in pages:
        for marker in ("SECRET-", "PROPOSED-LATE-EDIT", *(str(s) for s in hidden.values())):
            assert marker not in html
    assert "Practised 3 times" in pages[2]  # the approved session is there
    device = Device(parent)
    pulled: dict[str, list[Any]] = {"sessions": [], "observations": []}
    while True:
        out = device.sync(pull=True)
        for name in pulled:
            pulled[name] += out["changes"][name]
        if not out["has_more"]:
            break
    changes = pulled
    session_ids = {s["id"] for s in changes["sessions"]}
    assert str(approved) in session_ids
    assert not session_ids & {str(s) for s in hidden.values()}
    assert all(o["state"] == "applied" for o in changes["observations"])
    assert "PROPOSED-LATE-EDIT" not in str(changes)
    assert not any(str(s) in str(changes) for s in hidden.values())
    # Another family's child: not found, and the refusal is audited.
    other = client_for(classroom.parent).get(f"/parent/students/{classroom.other.id}", headers=PAGE)
    assert other.status_code == 404
    audit = sql.execute(
        "SELECT action, record_type, record_id FROM audit_log WHERE actor_id = %s ORDER BY id",
        (classroom.parent.id,),
    ).fetchall()
    assert ("read", "progress_note", str(classroom.student.id)) in audit
    assert ("read", "approved_data", str(classroom.student.id)) in audit
    assert ("denied", "approved_data", str(classroom.other.id)) in audit


def test_parent_settings_in_both_languages(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    parent = client_for(classroom.parent)
    page = parent.get("/parent/settings", headers=PAGE).text
    assert "Quiet hours" in page
    assert "data-enable-notifications" in page
    assert '<script type="module" src="/static/js/push.js">' in page
    r = parent.post(
        "/parent/settings",
        data={
            "notify_mode": "weekly",
            "quiet_start": "20:30",
            "quiet_end": "06:45",
            "language": "es",
            "timezone": "America/Los_Angeles",
        },
        headers=PAGE,
    )
    assert r.status_code in (302, 303)
    row = sql.execute(
        "SELECT notify_mode, quiet_start::text, quiet_end::text, language, timezone FROM app_user WHERE id = %s",
        (classroom.parent.id,),
    ).fetchone()
    assert row == ("weekly", "20:30:00", "06:45:00", "es", "America/Los_Angeles")
    page = parent.get("/parent/settings?done=saved", headers=PAGE).text
    assert "Sus ajustes se guardaron." in page
    assert "Horas de silencio" in page
    for bad in (
        {"timezone": "Mars/Olympus"},
        {"quiet_start": "22:00", "quiet_end": ""},
        {"notify_mode": "hourly"},
        {"quiet_start": "25:00", "quiet_end": "06:00"},
    ):
        form = {"notify_mode": "daily", "language": "en", "timezone": "UTC", **bad}
        assert parent.post("/parent/settings", data=form, headers=PAGE).status_code == 400
    api = parent.put(
        "/api/notify/preferences",
        json={
            "notify_mode": "immediate",
            "language": "en",
            "timezone": "UTC",
            "quiet_start": None,
            "quiet_end": None,
        },
    )
    assert api.status_code == 200
    assert api.json()["notify_mode"] == "immediate"


def test_error_pages_speak_the_parents_language(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sql.execute("UPDATE app_user SET language = 'es' WHERE id = %s", (classroom.parent.id,))
    parent = client_for(classroom.parent)
    missing = parent.get("/parent/notes/987654321", headers=PAGE)
    assert missing.status_code == 404
    assert '<html lang="es">' in missing.text
    assert "No se encontró" in missing.text
    assert "Volver a la página de inicio" in missing.text
    other = parent.get(f"/parent/students/{classroom.other.id}", headers=PAGE)
    assert other.status_code == 404
    assert "No se encontró" in other.text
    teacher = client_for(classroom.teacher)
    staff_page = teacher.get("/parent", headers=PAGE)
    assert staff_page.status_code == 403
    assert '<html lang="en">' in staff_page.text
    assert "Not allowed" in staff_page.text


def test_a_note_read_receipt_for_a_note_out_of_reach_is_refused_and_audited(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    sid = approved_session_with_data(sql, classroom)
    publish(client_for(classroom.teacher), classroom, [sid])
    note_id = latest_note(sql, classroom)
    stranger = factory.user("parent")  # same school, not Maya's guardian
    elsewhere = Factory(sql).user("parent")  # another school
    for user in (stranger, elsewhere):
        r = client_for(user).post(f"/api/progress-notes/{note_id}/read")
        assert r.status_code == 404
        [row] = sql.execute(
            "SELECT record_type, record_id, detail->>'attempted' FROM audit_log "
            "WHERE actor_id = %s AND action = 'denied'",
            (user.id,),
        ).fetchall()
        assert row == (
            "progress_note",
            str(note_id) if user is elsewhere else str(classroom.student.id),
            "mark_read",
        )
    assert (
        client_for(classroom.teacher).post(f"/api/progress-notes/{note_id}/read").status_code == 403
    )
    count = sql.execute("SELECT count(*) FROM progress_note_read WHERE note_id = %s", (note_id,))
    assert count.fetchone() == (0,)


def test_the_composer_lists_goals_with_no_text_in_a_familys_language_and_takes_it(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    abuela = factory.user("parent", language="es")
    factory.guardian(abuela, classroom.student)
    sid = make_session(sql, classroom.student, classroom.aide, status="approved")
    trials(sql, sid, classroom.student, classroom.aide, [("correct", "independent")])
    goal_id = classroom.student.goals["trials"]
    staff_words = sql.execute("SELECT description FROM goal WHERE id = %s", (goal_id,)).fetchone()
    assert staff_words is not None
    teacher = client_for(classroom.teacher)
    page = teacher.get(f"/teacher/review/students/{classroom.student.id}/notes", headers=PAGE)
    assert "1 goal(s) have no Spanish text yet" in page.text
    assert f'name="goal_id" value="{goal_id}"' in page.text
    saved = teacher.post(
        "/teacher/review/goal-texts",
        data={
            "goal_id": str(goal_id),
            "language": "es",
            "name": "Pedir un descanso",
            "description": "Pide un descanso con su tarjeta.",
        },
        headers=PAGE,
    )
    assert saved.status_code in (302, 303)
    page = teacher.get(f"/teacher/review/students/{classroom.student.id}/notes", headers=PAGE)
    assert "have no Spanish text yet" not in page.text
    spanish = dict(PREVIEW_BLOCK.findall(page.text))["es"]
    assert "Pedir un descanso" in spanish
    assert staff_words[0] not in spanish
    # Bad input changes nothing: an unknown language, a blank name.
    for bad in ({"language": "fr"}, {"name": ""}):
        r = teacher.post(
            "/teacher/review/goal-texts",
            data={
                "goal_id": str(goal_id),
                "language": "es",
                "name": "x",
                "description": "y",
                **bad,
            },
            headers=PAGE,
        )
        assert r.status_code == 400
    assert publish(teacher, classroom, [sid]).status_code in (302, 303)
    note = client_for(abuela).get(f"/parent/notes/{latest_note(sql, classroom)}", headers=PAGE).text
    assert "Pedir un descanso" in note
    assert "Pide un descanso con su tarjeta." in note
    assert staff_words[0] not in note
    child = client_for(abuela).get(f"/parent/students/{classroom.student.id}", headers=PAGE).text
    assert "Pedir un descanso" in child
