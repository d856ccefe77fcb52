"""The admin's roster: people, students, and the links between them, in one school.

Every function takes the acting admin and touches only rows of the admin's school: an
id from another school behaves exactly like an id that does not exist (404). Links keep
their history: ending one sets ends_at, nothing is deleted. Revoking a guardianship (a
court order) is permanent for that parent and student: no link or invitation restores it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from litestar.exceptions import HTTPException, NotFoundException

from server import db, i18n
from server.audit import service as audit
from server.auth.devices import shown_label
from server.auth.invites import REVOKED_GUARDIAN, Conflict
from server.auth.service import change_role
from server.auth.sessions import CurrentUser
from server.roster.schemas import (
    DeviceRow,
    InvitationRow,
    LinkRow,
    ServiceAccessRow,
    StudentLinks,
    StudentRow,
    UserRow,
)
from server.validation import MAX_DATE, MIN_DATE

# kind -> (table, person column, roles allowed on the person side)
LINK_KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "caseload": ("caseload_link", "teacher_id", ("teacher", "provider")),
    "assignment": ("assignment", "aide_id", ("aide",)),
    "guardianship": ("guardianship", "parent_id", ("parent",)),
}

NO_USER = "No such person in your school."
NO_STUDENT = "No such student in your school."
NO_LINK = "No such link in your school."
NO_SERVICE = "No such service with a provider in your school."


async def list_users(admin: CurrentUser) -> list[UserRow]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT u.id, u.name, u.email, m.role, u.is_active, u.password_hash IS NOT NULL
                      AS has_password
                 FROM membership m JOIN app_user u ON u.id = m.user_id
                WHERE m.school_id = $1
                ORDER BY m.role, lower(u.name), u.id""",
            admin.school_id,
        )
    return [UserRow(**dict(r)) for r in rows]


async def list_students(
    admin: CurrentUser, *, page: str, request_id: str | None = None, current_only: bool = False
) -> list[StudentRow]:
    """The school's students (not archived ones with current_only), for showing on
    `page`: the view is audited with the ids shown."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT id, first_name, last_name, grade, date_of_birth, external_id,
                      archived_at IS NOT NULL AS archived
                 FROM student WHERE school_id = $1 AND (NOT $2 OR archived_at IS NULL)
                ORDER BY lower(last_name), lower(first_name), id""",
            admin.school_id,
            current_only,
        )
        await audit.students_listed(
            admin, [r["id"] for r in rows], page=page, request_id=request_id, conn=conn
        )
    return [StudentRow(**dict(r)) for r in rows]


async def count_current_students(admin: CurrentUser) -> int:
    async with db.connection() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM student WHERE school_id = $1 AND archived_at IS NULL",
                admin.school_id,
            )
        )


async def create_student(
    admin: CurrentUser,
    *,
    first_name: str,
    last_name: str,
    grade: str,
    date_of_birth: date | None,
    external_id: str | None,
    request_id: str | None = None,
) -> StudentRow:
    if date_of_birth is not None and not MIN_DATE <= date_of_birth <= MAX_DATE:
        raise HTTPException(status_code=400, detail="The date of birth is out of range.")
    async with db.transaction() as conn:
        if external_id:
            taken = await conn.fetchval(
                "SELECT 1 FROM student WHERE school_id = $1 AND external_id = $2",
                admin.school_id,
                external_id,
            )
            if taken:
                raise Conflict(detail="A student with this external id already exists.")
        row = await conn.fetchrow(
            """INSERT INTO student (school_id, first_name, last_name, grade, date_of_birth,
                                    external_id)
               VALUES ($1, $2, $3, $4, $5, $6)
               RETURNING id, first_name, last_name, grade, date_of_birth, external_id,
                         false AS archived""",
            admin.school_id,
            first_name.strip(),
            last_name.strip(),
            grade.strip(),
            date_of_birth,
            external_id or None,
        )
        assert row is not None
        await audit.record(
            admin,
            action="create",
            record_type="student",
            record_id=row["id"],
            student_id=row["id"],
            request_id=request_id,
            conn=conn,
        )
    return StudentRow(**dict(row))


async def _student_in_school(conn: asyncpg.Connection, admin: CurrentUser, student_id: int) -> Any:
    row = await conn.fetchrow(
        "SELECT id, first_name, last_name, grade FROM student WHERE id = $1 AND school_id = $2",
        student_id,
        admin.school_id,
    )
    if row is None:
        raise NotFoundException(NO_STUDENT)
    return row


async def student_links(
    admin: CurrentUser, student_id: int, *, request_id: str | None = None
) -> StudentLinks:
    """Every link of one student, current and ended, newest first."""
    async with db.connection() as conn:
        student = await _student_in_school(conn, admin, student_id)
        links: list[LinkRow] = []
        for kind, (table, person_col, _) in LINK_KINDS.items():
            extra = (
                "t.relationship, t.revoked, t.revoked_at, t.revoked_reason"
                if kind == "guardianship"
                else "NULL::text AS relationship, false AS revoked, "
                "NULL::timestamptz AS revoked_at, NULL::text AS revoked_reason"
            )
            rows = await conn.fetch(
                f"""SELECT t.id, t.{person_col} AS user_id, u.name AS user_name,
                           u.email AS user_email, t.starts_at, t.ends_at, {extra},
                           (t.ends_at IS NULL OR t.ends_at > now()) AND t.starts_at <= now()
                             AS current
                      FROM {table} t JOIN app_user u ON u.id = t.{person_col}
                     WHERE t.student_id = $1 AND t.school_id = $2
                     ORDER BY t.starts_at DESC, t.id DESC""",
                student_id,
                admin.school_id,
            )
            links.extend(LinkRow(kind=kind, **dict(r)) for r in rows)
        services = await _service_access(conn, admin, student_id)
        await audit.record(
            admin,
            action="read",
            record_type="student_links",
            record_id=student_id,
            student_id=student_id,
            request_id=request_id,
            conn=conn,
        )
    return StudentLinks(
        student=StudentRow(
            id=student["id"],
            first_name=student["first_name"],
            last_name=student["last_name"],
            grade=student["grade"],
        ),
        links=links,
        services=services,
    )


async def _service_access(
    conn: asyncpg.Connection, admin: CurrentUser, student_id: int
) -> list[ServiceAccessRow]:
    """Providers named on the student's services (access through tandem_student_scope
    while the IEP is active and the admin has not ended it), newest first."""
    rows = await conn.fetch(
        """SELECT sv.id AS service_id, sv.service_type, i.status AS iep_status, sv.provider_id,
                  u.name AS provider_name, u.email AS provider_email, m.role AS provider_role,
                  sv.provider_since AS since, sv.provider_ended_at AS ended_at,
                  (i.status = 'active' AND m.role IN ('teacher', 'provider')
                   AND (sv.provider_ended_at IS NULL OR sv.provider_ended_at > now())) AS current
             FROM service sv JOIN iep i ON i.id = sv.iep_id
             JOIN app_user u ON u.id = sv.provider_id
             LEFT JOIN membership m ON m.user_id = sv.provider_id AND m.school_id = sv.school_id
            WHERE sv.student_id = $1 AND sv.school_id = $2
            ORDER BY sv.provider_since DESC NULLS LAST, sv.id DESC""",
        student_id,
        admin.school_id,
    )
    return [ServiceAccessRow(**dict(r)) for r in rows]


async def end_service_access(
    admin: CurrentUser, service_id: int, *, request_id: str | None = None
) -> int:
    """End the access a provider has through a service, now; the service and who was
    named on it stay on record. Returns the student id."""
    async with db.transaction() as conn:
        row = await conn.fetchrow(
            """UPDATE service SET provider_ended_at = now()
                WHERE id = $1 AND school_id = $2 AND provider_id IS NOT NULL
                  AND (provider_ended_at IS NULL OR provider_ended_at > now())
               RETURNING student_id, provider_id""",
            service_id,
            admin.school_id,
        )
        if row is None:
            exists = await conn.fetchval(
                "SELECT student_id FROM service WHERE id = $1 AND school_id = $2"
                " AND provider_id IS NOT NULL",
                service_id,
                admin.school_id,
            )
            if exists is None:
                raise NotFoundException(NO_SERVICE)
            return int(exists)  # already ended: nothing to do
        await audit.record(
            admin,
            action="end_link",
            record_type="service_provider",
            record_id=service_id,
            student_id=row["student_id"],
            request_id=request_id,
            detail={"user_id": row["provider_id"]},
            conn=conn,
        )
    return int(row["student_id"])


async def add_link(
    admin: CurrentUser,
    *,
    kind: str,
    user_id: int,
    student_id: int,
    relationship: str = "guardian",
    request_id: str | None = None,
) -> int:
    """Start a caseload, assignment or guardianship link now; returns its id."""
    table, person_col, roles = LINK_KINDS[kind]
    async with db.transaction() as conn:
        await _student_in_school(conn, admin, student_id)
        role = await conn.fetchval(
            "SELECT role FROM membership WHERE user_id = $1 AND school_id = $2",
            user_id,
            admin.school_id,
        )
        if role is None:
            raise NotFoundException(NO_USER)
        if role not in roles:
            raise HTTPException(
                status_code=400,
                detail=f"A {kind} link needs a {' or '.join(roles)}, not a {role}.",
            )
        if kind == "guardianship":
            revoked = await conn.fetchval(
                "SELECT 1 FROM guardianship WHERE parent_id = $1 AND student_id = $2 AND revoked",
                user_id,
                student_id,
            )
            if revoked:
                raise Conflict(detail=REVOKED_GUARDIAN)
        current = await conn.fetchval(
            f"""SELECT 1 FROM {table} WHERE {person_col} = $1 AND student_id = $2
                   AND (ends_at IS NULL OR ends_at > now())""",
            user_id,
            student_id,
        )
        if current:
            raise Conflict(detail="This link already exists.")
        if kind == "guardianship":
            link_id = await conn.fetchval(
                """INSERT INTO guardianship (school_id, parent_id, student_id, relationship)
                   VALUES ($1, $2, $3, $4) RETURNING id""",
                admin.school_id,
                user_id,
                student_id,
                relationship,
            )
        else:
            link_id = await conn.fetchval(
                f"""INSERT INTO {table} (school_id, {person_col}, student_id)
                    VALUES ($1, $2, $3) RETURNING id""",
                admin.school_id,
                user_id,
                student_id,
            )
        await audit.record(
            admin,
            action="link",
            record_type=kind,
            record_id=link_id,
            student_id=student_id,
            request_id=request_id,
            detail={"user_id": user_id},
            conn=conn,
        )
    return int(link_id)


async def end_link(
    admin: CurrentUser, kind: str, link_id: int, *, request_id: str | None = None
) -> int:
    """End a current link now (history kept); returns the student id."""
    table, _, _ = LINK_KINDS[kind]
    async with db.transaction() as conn:
        row = await conn.fetchrow(
            f"""UPDATE {table} SET ends_at = greatest(now(), starts_at)
                 WHERE id = $1 AND school_id = $2 AND (ends_at IS NULL OR ends_at > now())
                RETURNING student_id""",
            link_id,
            admin.school_id,
        )
        if row is None:
            exists = await conn.fetchval(
                f"SELECT student_id FROM {table} WHERE id = $1 AND school_id = $2",
                link_id,
                admin.school_id,
            )
            if exists is None:
                raise NotFoundException(NO_LINK)
            return int(exists)  # already ended: nothing to do
        await audit.record(
            admin,
            action="end_link",
            record_type=kind,
            record_id=link_id,
            student_id=row["student_id"],
            request_id=request_id,
            conn=conn,
        )
    return int(row["student_id"])


async def revoke_guardianship(
    admin: CurrentUser, link_id: int, reason: str, *, request_id: str | None = None
) -> int:
    """Revoke a guardianship (court order): access ends now and for good; pending parent
    invitations for that student and parent are cancelled. Returns the student id."""
    async with db.transaction() as conn:
        row = await conn.fetchrow(
            """UPDATE guardianship
                  SET revoked = true, revoked_at = now(), revoked_reason = $3,
                      ends_at = CASE WHEN ends_at IS NULL OR ends_at > now()
                                     THEN greatest(now(), starts_at) ELSE ends_at END
                WHERE id = $1 AND school_id = $2
               RETURNING student_id, parent_id""",
            link_id,
            admin.school_id,
            reason.strip(),
        )
        if row is None:
            raise NotFoundException(NO_LINK)
        await conn.execute(
            """UPDATE account_link SET expires_at = now()
                WHERE kind = 'invite' AND student_id = $1 AND used_at IS NULL
                  AND expires_at > now()
                  AND email = (SELECT lower(email) FROM app_user WHERE id = $2)""",
            row["student_id"],
            row["parent_id"],
        )
        await audit.record(
            admin,
            action="revoke",
            record_type="guardianship",
            record_id=link_id,
            student_id=row["student_id"],
            request_id=request_id,
            detail={"parent_id": row["parent_id"], "reason": reason.strip()},
            conn=conn,
        )
    return int(row["student_id"])


async def set_role(admin: CurrentUser, user_id: int, role: str) -> None:
    """Change a user's role; their sessions end (server/auth/service.change_role)."""
    if user_id == admin.id:
        raise HTTPException(status_code=400, detail="You cannot change your own role.")
    if not await change_role(admin, user_id, role):
        raise NotFoundException(NO_USER)


async def set_active(
    admin: CurrentUser, user_id: int, active: bool, *, request_id: str | None = None
) -> None:
    """Deactivate (sessions end, login refused) or reactivate a user of the school."""
    if user_id == admin.id and not active:
        raise HTTPException(status_code=400, detail="You cannot deactivate yourself.")
    async with db.transaction() as conn:
        updated = await conn.fetchval(
            """UPDATE app_user SET is_active = $3 WHERE id = $1
                  AND EXISTS (SELECT 1 FROM membership m
                               WHERE m.user_id = $1 AND m.school_id = $2)
               RETURNING id""",
            user_id,
            admin.school_id,
            active,
        )
        if updated is None:
            raise NotFoundException(NO_USER)
        if not active:
            await conn.execute("DELETE FROM auth_session WHERE user_id = $1", user_id)
        await audit.record(
            admin,
            action="reactivate" if active else "deactivate",
            record_type="user",
            record_id=user_id,
            request_id=request_id,
            conn=conn,
        )


async def list_invitations(admin: CurrentUser) -> list[InvitationRow]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT l.id, l.kind, l.email, l.role, l.student_id,
                      st.first_name || ' ' || st.last_name AS student_name,
                      c.name AS created_by_name, l.created_at, l.expires_at, l.used_at,
                      CASE WHEN l.used_at IS NOT NULL THEN 'used'
                           WHEN l.expires_at <= now() THEN 'expired'
                           ELSE 'pending' END AS status
                 FROM account_link l
                 JOIN app_user c ON c.id = l.created_by
                 LEFT JOIN student st ON st.id = l.student_id
                WHERE l.school_id = $1
                ORDER BY l.created_at DESC, l.id DESC
                LIMIT 200""",
            admin.school_id,
        )
    return [InvitationRow(**dict(r)) for r in rows]


async def cancel_link(admin: CurrentUser, link_id: int, *, request_id: str | None = None) -> None:
    """Make an unused invitation or reset link unusable now."""
    async with db.transaction() as conn:
        row = await conn.fetchrow(
            """UPDATE account_link SET expires_at = least(expires_at, now())
                WHERE id = $1 AND school_id = $2 RETURNING student_id""",
            link_id,
            admin.school_id,
        )
        if row is None:
            raise NotFoundException("No such invitation in your school.")
        await audit.record(
            admin,
            action="cancel",
            record_type="account_link",
            record_id=link_id,
            student_id=row["student_id"],
            request_id=request_id,
            conn=conn,
        )


async def list_devices(admin: CurrentUser) -> list[DeviceRow]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT d.id, d.user_id, u.name AS user_name, d.label, d.created_at,
                      d.last_seen_at, d.revoked_at
                 FROM device d JOIN app_user u ON u.id = d.user_id
                WHERE d.school_id = $1
                ORDER BY d.revoked_at IS NOT NULL, d.last_seen_at DESC, d.id DESC
                LIMIT 500""",
            admin.school_id,
        )
    return [DeviceRow(**{**dict(r), "label": shown_label(r["label"] or "")}) for r in rows]


async def staff_clock(user: CurrentUser) -> i18n.Clock:
    """Staff pages tell time in the school's zone and the staff member's language."""
    async with db.connection() as conn:
        zone = await conn.fetchval("SELECT timezone FROM school WHERE id = $1", user.school_id)
    return i18n.Clock(language=user.language, timezone=str(zone or ""))
