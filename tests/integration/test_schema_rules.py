"""Rules the database itself holds, whatever code writes: an observation's school and
student are its session's, and its goal is one of that student's goals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from tests.support.factories import Classroom

INSERT = """INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id,
                                     user_id, kind, delta, device_time, recorded_at)
            VALUES (%s, %s, %s, %s, %s, %s, 'tally', 1, %s, %s)"""


def open_session(sql: psycopg.Connection[Any], room: Classroom) -> uuid.UUID:
    session_id = uuid.uuid4()
    sql.execute(
        """INSERT INTO data_session (id, school_id, student_id, staff_id, opened_at)
           VALUES (%s, %s, %s, %s, now())""",
        (session_id, room.student.school_id, room.student.id, room.aide.id),
    )
    return session_id


def count(sql: psycopg.Connection[Any], session_id: uuid.UUID) -> int:
    row = sql.execute(
        "SELECT count(*) FROM observation WHERE session_id = %s", (session_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_observation_matching_its_session_is_stored(
    sql: psycopg.Connection[Any], classroom: Classroom
) -> None:
    session_id = open_session(sql, classroom)
    now = datetime.now(UTC)
    s = classroom.student
    row = (uuid.uuid4(), s.school_id, s.id, session_id, s.goals["frequency"], classroom.aide.id)
    sql.execute(INSERT, (*row, now, now))
    assert count(sql, session_id) == 1


@pytest.mark.parametrize("wrong", ["student", "school", "goal"])
def test_an_observation_disagreeing_with_its_session_is_refused(
    sql: psycopg.Connection[Any], classroom: Classroom, wrong: str
) -> None:
    session_id = open_session(sql, classroom)
    now = datetime.now(UTC)
    s, other = classroom.student, classroom.other
    other_school = sql.execute(
        "INSERT INTO school (name) VALUES ('Elsewhere') RETURNING id"
    ).fetchone()
    assert other_school is not None
    values = {
        "school": s.school_id if wrong != "school" else other_school[0],
        "student": s.id if wrong != "student" else other.id,
        # The other student's goal: a real goal, just not this student's.
        "goal": s.goals["frequency"] if wrong != "goal" else other.goals["frequency"],
    }
    row = (uuid.uuid4(), values["school"], values["student"], session_id, values["goal"])
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        sql.execute(INSERT, (*row, classroom.aide.id, now, now))
    assert count(sql, session_id) == 0
