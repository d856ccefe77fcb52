"""Test data written straight into PostgreSQL. Each test makes its own school, so tests
never see each other's rows and need no cleanup."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

PASSWORD = "correct horse battery staple"


@lru_cache(maxsize=1)
def password_hash() -> str:
    from server.auth.passwords import hash_password_sync

    return hash_password_sync(PASSWORD)


@dataclass
class User:
    id: int
    email: str
    role: str
    school_id: int
    name: str


@dataclass
class Student:
    id: int
    school_id: int
    first_name: str
    last_name: str
    iep_id: int | None = None
    goals: dict[str, int] = field(default_factory=dict)  # measurement -> goal id
    service_id: int | None = None


class Factory:
    """Builds one school's worth of people and records."""

    def __init__(self, conn: psycopg.Connection[Any], school_id: int | None = None) -> None:
        """A factory for a new school, or for the existing `school_id`."""
        self.conn = conn
        self.tag = uuid.uuid4().hex[:8]
        self._n = 0
        self.school_id = school_id or self.one(
            "INSERT INTO school (name, timezone) VALUES (%s, 'America/Chicago') RETURNING id",
            f"Test School {self.tag}",
        )

    def one(self, sql: str, *args: Any) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        assert row is not None
        return row[0]

    def user(
        self,
        role: str,
        *,
        name: str | None = None,
        language: str = "en",
        timezone: str = "America/Chicago",
    ) -> User:
        self._n += 1
        email = f"{role}{self._n}-{self.tag}@example.test"
        name = name or f"{role.title()} {self._n}"
        uid = self.one(
            """INSERT INTO app_user (email, name, password_hash, language, timezone)
               VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            email,
            name,
            password_hash(),
            language,
            timezone,
        )
        self.conn.execute(
            "INSERT INTO membership (school_id, user_id, role) VALUES (%s, %s, %s)",
            (self.school_id, uid, role),
        )
        return User(id=uid, email=email, role=role, school_id=self.school_id, name=name)

    def student(
        self, first: str = "Ada", last: str | None = None, *, with_iep: bool = True
    ) -> Student:
        self._n += 1
        last = last or f"Lovelace{self._n}"
        sid = self.one(
            "INSERT INTO student (school_id, first_name, last_name, grade) "
            "VALUES (%s, %s, %s, '3') RETURNING id",
            self.school_id,
            first,
            last,
        )
        student = Student(id=sid, school_id=self.school_id, first_name=first, last_name=last)
        if with_iep:
            self.iep(student)
        return student

    def iep(self, student: Student) -> int:
        today = date.today()
        iep_id = self.one(
            """INSERT INTO iep (school_id, student_id, start_date, end_date, status)
               VALUES (%s, %s, %s, %s, 'active') RETURNING id""",
            self.school_id,
            student.id,
            today - timedelta(days=60),
            today + timedelta(days=300),
        )
        student.iep_id = iep_id
        goals: list[tuple[str, str, str, dict[str, Any]]] = [
            ("trials", "Communication", "Requests a break using a picture card", {}),
            ("frequency", "Behavior", "Raises hand before speaking", {}),
            ("duration", "Attention", "Stays on task during independent work", {}),
            ("rating", "Social", "Takes turns in a small-group game", {"rating_max": 5}),
            (
                "task_analysis",
                "Daily living",
                "Washes hands",
                {"task_steps": ["Turn on water", "Soap", "Scrub 20 s", "Rinse", "Dry"]},
            ),
        ]
        for pos, (measurement, area, text, extra) in enumerate(goals):
            gid = self.one(
                """INSERT INTO goal (school_id, iep_id, student_id, area, description, measurement,
                                     baseline, target, mastery_criterion, rating_max, task_steps,
                                     position)
                   VALUES (%s, %s, %s, %s, %s, %s, '2/10', '8/10', '80%% over 3 sessions', %s, %s, %s)
                   RETURNING id""",
                self.school_id,
                iep_id,
                student.id,
                area,
                text,
                measurement,
                extra.get("rating_max"),
                Jsonb(extra.get("task_steps", [])),
                pos,
            )
            student.goals[measurement] = gid
        return int(iep_id)

    def service(self, student: Student, provider: User, minutes: int = 120) -> int:
        assert student.iep_id is not None
        sid = self.one(
            """INSERT INTO service (school_id, iep_id, student_id, service_type, minutes, period,
                                    provider_id)
               VALUES (%s, %s, %s, 'Speech-language therapy', %s, 'week', %s) RETURNING id""",
            self.school_id,
            student.iep_id,
            student.id,
            minutes,
            provider.id,
        )
        student.service_id = sid
        return int(sid)

    def caseload(self, teacher: User, student: Student, *, starts: datetime | None = None) -> int:
        return int(
            self.one(
                "INSERT INTO caseload_link (school_id, teacher_id, student_id, starts_at) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                self.school_id,
                teacher.id,
                student.id,
                starts or datetime.now(UTC) - timedelta(days=30),
            )
        )

    def assign(
        self,
        aide: User,
        student: Student,
        *,
        starts: datetime | None = None,
        ends: datetime | None = None,
    ) -> int:
        return int(
            self.one(
                "INSERT INTO assignment (school_id, aide_id, student_id, starts_at, ends_at) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                self.school_id,
                aide.id,
                student.id,
                starts or datetime.now(UTC) - timedelta(days=30),
                ends,
            )
        )

    def guardian(self, parent: User, student: Student, *, revoked: bool = False) -> int:
        return int(
            self.one(
                "INSERT INTO guardianship (school_id, parent_id, student_id, revoked, starts_at) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                self.school_id,
                parent.id,
                student.id,
                revoked,
                datetime.now(UTC) - timedelta(days=30),
            )
        )

    def classroom(self) -> Classroom:
        """The usual cast: admin, teacher, provider, aide, parent; an in-scope student for
        each of them and one student nobody but the admin may see."""
        admin = self.user("admin")
        teacher = self.user("teacher")
        provider = self.user("provider")
        aide = self.user("aide")
        parent = self.user("parent")
        student = self.student("Maya")
        other = self.student("Noah")
        self.caseload(teacher, student)
        self.service(student, provider)
        self.assign(aide, student)
        self.guardian(parent, student)
        return Classroom(
            admin=admin,
            teacher=teacher,
            provider=provider,
            aide=aide,
            parent=parent,
            student=student,
            other=other,
        )


@dataclass
class Classroom:
    admin: User
    teacher: User
    provider: User
    aide: User
    parent: User
    student: Student
    other: Student

    def by_role(self, role: str) -> User:
        return {
            "admin": self.admin,
            "teacher": self.teacher,
            "provider": self.provider,
            "aide": self.aide,
            "parent": self.parent,
        }[role]
