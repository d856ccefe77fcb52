"""Single-use account links: invitations and password resets.

Only the SHA-256 of a link's token is stored (account_link.token_hash). A link is used at
most once (the UPDATE that marks it used is the claim, so two concurrent uses cannot both
succeed), expires after settings.invite_ttl_hours / reset_ttl_hours, and is always built
on settings.base_url: never on the Host header of the request that made it.

Who may make which link:
- an admin: staff invitations (admin, teacher, provider, aide), parent invitations for
  any student of the school, reset links for anyone in the school;
- a teacher: parent invitations for students in their scope, and reset links for a parent
  only if *every* child of that parent (in any school, any caseload) is in the teacher's
  scope and the account holds no other role: a reset link is the whole account, so a
  teacher who shares one child with another teacher must not be able to take over the
  parent and read the other child (only an admin may then);
- nobody else.
A parent invitation never restores a revoked guardianship (court orders), and never sets
or changes an existing account's password: its holder must prove the password they have.
The holder of an account hears in the app (auth/notices.py), and by mail where mail is
configured, when a reset link is made for them and when one is used; using a reset link
voids every other unused reset link of that account.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_410_GONE

from server import db, mail
from server.audit import service as audit
from server.auth import notices, scope, service
from server.auth.passwords import hash_password
from server.auth.sessions import CurrentUser, new_token, token_hash
from server.settings import get_settings
from server.validation import text_problem

STAFF_ROLES = ("admin", "teacher", "provider", "aide")
TOKEN_MAX_LENGTH = 128
MIN_PASSWORD_LENGTH = 8

REVOKED_GUARDIAN = (
    "This person's access to this student was revoked; an invitation cannot restore it."
)
LINK_GONE = "This link has expired or was already used. Ask for a new one."
RESET_NO_LONGER = (
    "This link can no longer be used: whoever made it may no longer reset this account. "
    "Ask the school's admin for a new one."
)
NOT_ALL_CHILDREN = (
    "This parent also has a child outside your caseload, so only a school admin can make "
    "a password link for them."
)

# Whether a teacher ($2, school $3) may make a reset link for parent $1: the account is a
# parent's and nothing else, it has at least one child, and every child it is (or will be)
# a guardian of, revoked guardianships aside, is in the teacher's scope now.
_TEACHER_MAY_RESET = """
SELECT NOT EXISTS (SELECT 1 FROM membership WHERE user_id = $1 AND role <> 'parent')
   AND EXISTS (SELECT 1 FROM guardianship g
                WHERE g.parent_id = $1 AND NOT g.revoked
                  AND (g.ends_at IS NULL OR now() < g.ends_at))
   AND NOT EXISTS (
         SELECT 1 FROM guardianship g
          WHERE g.parent_id = $1 AND NOT g.revoked
            AND (g.ends_at IS NULL OR now() < g.ends_at)
            AND g.student_id NOT IN (
                  SELECT student_id FROM tandem_student_scope($2, $3, 'teacher', now())))"""


class Conflict(HTTPException):
    status_code = HTTP_409_CONFLICT


class LinkGone(HTTPException):
    status_code = HTTP_410_GONE


class CreatedLink(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    email: str
    role: str
    url: str
    expires_at: datetime
    emailed: bool


class PendingLink(msgspec.Struct, frozen=True, kw_only=True):
    """What the acceptance page needs to know about a valid link."""

    kind: str
    email: str
    name: str
    role: str
    school_name: str
    student_name: str | None
    existing_user: bool


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    school_id: int
    role: str


def link_url(kind: str, token: str) -> str:
    path = "invite" if kind == "invite" else "reset"
    return f"{get_settings().base_url}/{path}/{token}"


def _normalise(email: str) -> str:
    return email.strip().lower()


async def _revoked_guardian(conn: asyncpg.Connection, email: str, student_id: int) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM guardianship g JOIN app_user u ON u.id = g.parent_id
                               WHERE lower(u.email) = $1 AND g.student_id = $2 AND g.revoked)""",
            email,
            student_id,
        )
    )


async def _insert_link(
    conn: asyncpg.Connection,
    *,
    school_id: int,
    kind: str,
    email: str,
    name: str,
    role: str,
    student_id: int | None,
    user_id: int | None,
    created_by: int,
    relationship: str | None = None,
) -> tuple[int, str, datetime]:
    s = get_settings()
    hours = s.invite_ttl_hours if kind == "invite" else s.reset_ttl_hours
    token = new_token()
    row = await conn.fetchrow(
        """INSERT INTO account_link (school_id, kind, token_hash, email, name, role, student_id,
                                     user_id, created_by, expires_at, relationship)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + $10::interval, $11)
           RETURNING id, expires_at""",
        school_id,
        kind,
        token_hash(token),
        email,
        name,
        role,
        student_id,
        user_id,
        created_by,
        timedelta(hours=hours),
        relationship,
    )
    assert row is not None
    return int(row["id"]), token, row["expires_at"]


async def _deliver(kind: str, email: str, url: str, school_name: str) -> bool:
    if kind == "invite":
        subject = f"You are invited to Tandem ({school_name})"
        body = (
            f"You have been invited to Tandem at {school_name}.\n\n"
            f"Open this link to choose your password and sign in:\n{url}\n\n"
            "The link works once. If you did not expect it, ignore this message.\n"
        )
    else:
        subject = f"Reset your Tandem password ({school_name})"
        body = (
            f"Open this link to choose a new Tandem password:\n{url}\n\n"
            "The link works once. If you did not ask for it, tell your school.\n"
        )
    return await mail.send(email, subject, body)


async def create_invite(
    actor: CurrentUser,
    *,
    email: str,
    name: str,
    role: str,
    student_id: int | None,
    request_id: str | None = None,
    relationship: str | None = None,
) -> CreatedLink:
    """An invitation made by `actor` (see the module docstring for who may invite whom).
    A parent invitation may name the relationship the guardianship will carry."""
    email = _normalise(email)
    if relationship is not None:
        relationship = relationship.strip()
        problem = text_problem(relationship) or (
            None if relationship else "The relationship cannot be blank."
        )
        if problem:
            raise HTTPException(status_code=400, detail=problem)
        if role != "parent":
            raise HTTPException(
                status_code=400, detail="Only parent invitations name a relationship."
            )
    if actor.role == "teacher":
        if role != "parent":
            raise PermissionDeniedException("Teachers can invite parents only.")
    elif actor.role != "admin":
        raise PermissionDeniedException("Your role cannot invite people.")
    if role == "parent":
        if student_id is None:
            raise HTTPException(status_code=400, detail="A parent invitation names a student.")
        # Out of the actor's scope (another school, not in the caseload) is a 404, audited.
        await scope.require_student(
            actor, student_id, action="invite_parent", request_id=request_id
        )
    elif student_id is not None:
        raise HTTPException(status_code=400, detail="Only parent invitations name a student.")
    async with db.transaction() as conn:
        existing = await conn.fetchrow(
            """SELECT u.id, m.school_id, m.role FROM app_user u
                 LEFT JOIN membership m ON m.user_id = u.id
                WHERE lower(u.email) = $1 ORDER BY m.id LIMIT 1""",
            email,
        )
        if existing is not None:
            same_parent = (
                role == "parent"
                and existing["school_id"] == actor.school_id
                and existing["role"] == "parent"
            )
            if not same_parent:
                raise Conflict(detail="Someone with this email already has an account.")
        if role == "parent":
            assert student_id is not None
            if await _revoked_guardian(conn, email, student_id):
                raise Conflict(detail=REVOKED_GUARDIAN)
        link_id, token, expires_at = await _insert_link(
            conn,
            school_id=actor.school_id,
            kind="invite",
            email=email,
            name=name.strip(),
            role=role,
            student_id=student_id,
            user_id=existing["id"] if existing is not None else None,
            created_by=actor.id,
            relationship=relationship,
        )
        await audit.record(
            actor,
            action="invite",
            record_type="account_link",
            record_id=link_id,
            student_id=student_id,
            request_id=request_id,
            detail={"role": role, "email": email},
            conn=conn,
        )
        school_name = await conn.fetchval("SELECT name FROM school WHERE id = $1", actor.school_id)
    url = link_url("invite", token)
    emailed = await _deliver("invite", email, url, str(school_name))
    return CreatedLink(
        id=link_id,
        kind="invite",
        email=email,
        role=role,
        url=url,
        expires_at=expires_at,
        emailed=emailed,
    )


async def create_reset(
    actor: CurrentUser, user_id: int, *, request_id: str | None = None
) -> CreatedLink:
    """A password-reset link for `user_id`: an admin for anyone in the school, a teacher for
    a parent all of whose children are in their scope (see the module docstring). Someone
    the actor does not look after is a 404; a parent the teacher sees but may not reset
    is a 403 with the reason, audited."""
    if actor.role not in ("admin", "teacher"):
        raise PermissionDeniedException("Your role cannot make reset links.")
    async with db.connection() as conn:
        target = await conn.fetchrow(
            """SELECT u.id, u.email, u.name, m.role FROM app_user u
                 JOIN membership m ON m.user_id = u.id AND m.school_id = $2
                WHERE u.id = $1 AND u.is_active""",
            user_id,
            actor.school_id,
        )
        visible = target is not None
        if visible and actor.role == "teacher":
            assert target is not None
            # The teacher sees the parent when one child is in the caseload ...
            visible = target["role"] == "parent" and bool(
                await conn.fetchval(
                    """SELECT EXISTS (
                         SELECT 1 FROM guardianship g
                           JOIN tandem_student_scope($2, $3, 'teacher', now()) sc
                             ON sc.student_id = g.student_id
                          WHERE g.parent_id = $1 AND NOT g.revoked
                            AND g.starts_at <= now() AND (g.ends_at IS NULL OR now() < g.ends_at))""",
                    user_id,
                    actor.id,
                    actor.school_id,
                )
            )
        if not visible or target is None:
            raise NotFoundException("No such person among the people you look after.")
        # ... and may make the link only when every child of the parent is theirs.
        if actor.role == "teacher" and not await conn.fetchval(
            _TEACHER_MAY_RESET, user_id, actor.id, actor.school_id
        ):
            await audit.record(
                actor,
                action="reset_link_refused",
                record_type="user",
                record_id=user_id,
                request_id=request_id,
                detail={"reason": "child_outside_scope"},
                conn=conn,
            )
            raise PermissionDeniedException(NOT_ALL_CHILDREN)
    async with db.transaction() as conn:
        if actor.role == "teacher" and not await _may_still_reset(
            conn, user_id=user_id, creator_id=actor.id, school_id=actor.school_id
        ):
            # A child outside the caseload was linked between the check and now.
            raise PermissionDeniedException(NOT_ALL_CHILDREN)
        link_id, token, expires_at = await _insert_link(
            conn,
            school_id=actor.school_id,
            kind="reset",
            email=target["email"],
            name=target["name"],
            role=target["role"],
            student_id=None,
            user_id=user_id,
            created_by=actor.id,
        )
        await audit.record(
            actor,
            action="reset_link",
            record_type="account_link",
            record_id=link_id,
            request_id=request_id,
            detail={"user_id": user_id},
            conn=conn,
        )
        await notices.record(
            conn,
            user_id=user_id,
            school_id=actor.school_id,
            kind="reset_link_made",
            actor_id=actor.id,
        )
        school_name = await conn.fetchval("SELECT name FROM school WHERE id = $1", actor.school_id)
    url = link_url("reset", token)
    emailed = await _deliver("reset", target["email"], url, str(school_name))
    return CreatedLink(
        id=link_id,
        kind="reset",
        email=target["email"],
        role=target["role"],
        url=url,
        expires_at=expires_at,
        emailed=emailed,
    )


async def operator_link(
    conn: asyncpg.Connection,
    *,
    school_id: int,
    kind: str,
    email: str,
    name: str,
    role: str,
    student_id: int | None,
    user_id: int | None,
    created_by: int,
    relationship: str | None = None,
) -> str:
    """A link made by an operator at the command line (already authorised): the URL."""
    _, token, _ = await _insert_link(
        conn,
        school_id=school_id,
        kind=kind,
        email=_normalise(email),
        name=name,
        role=role,
        student_id=student_id,
        user_id=user_id,
        created_by=created_by,
        relationship=relationship,
    )
    return link_url(kind, token)


def _valid_token(token: str) -> bool:
    return 0 < len(token) <= TOKEN_MAX_LENGTH


async def pending(kind: str, token: str) -> PendingLink:
    """A link that can still be used, for the page that asks for the password."""
    if not _valid_token(token):
        raise NotFoundException("No such link.")
    async with db.connection() as conn:
        row = await conn.fetchrow(
            """SELECT l.kind, l.email, l.name, l.role, l.used_at, l.expires_at <= now() AS expired,
                      s.name AS school_name, st.first_name AS student_first,
                      (SELECT u.id FROM app_user u WHERE lower(u.email) = l.email) AS user_id
                 FROM account_link l JOIN school s ON s.id = l.school_id
                 LEFT JOIN student st ON st.id = l.student_id
                WHERE l.token_hash = $1 AND l.kind = $2""",
            token_hash(token),
            kind,
        )
    if row is None:
        raise NotFoundException("No such link.")
    if row["used_at"] is not None or row["expired"]:
        raise LinkGone(detail=LINK_GONE)
    return PendingLink(
        kind=row["kind"],
        email=row["email"],
        name=row["name"],
        role=row["role"],
        school_name=row["school_name"],
        student_name=row["student_first"],
        existing_user=row["user_id"] is not None,
    )


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    return None


async def _claim(conn: asyncpg.Connection, kind: str, token: str) -> asyncpg.Record:
    """Mark the link used, in the caller's transaction; raise if it is not usable."""
    row = await conn.fetchrow(
        """UPDATE account_link SET used_at = now()
            WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > now()
            RETURNING id, school_id, email, name, role, student_id, user_id, created_by,
                      relationship""",
        token_hash(token),
        kind,
    )
    if row is None:
        known = await conn.fetchval(
            "SELECT 1 FROM account_link WHERE token_hash = $1 AND kind = $2",
            token_hash(token),
            kind,
        )
        if known is None:
            raise NotFoundException("No such link.")
        raise LinkGone(detail=LINK_GONE)
    return row


class WrongPassword(Exception):
    """An existing account accepted an invitation with the wrong password."""


async def accept_invite(
    token: str, *, name: str, password: str, client_address: str, device_token: str | None
) -> Accepted:
    """Use an invitation: create the account (or, for someone who already has one, check
    their password), the membership and, for a parent, the guardianship.

    Raises ratelimit.RateLimited when the link holder's source has failed too often."""
    if not _valid_token(token):
        raise NotFoundException("No such link.")
    preview = await pending("invite", token)
    if preview.existing_user:
        # The link holder must prove the password, counted and limited as a login from
        # the same source is: a stranger's failures here never lock the holder's login.
        proved = await service.prove_password(
            email=preview.email,
            password=password,
            client_address=client_address,
            device_token=device_token,
        )
        if proved is None:
            raise WrongPassword
        new_hash = None
    else:
        new_hash = await hash_password(password)
    async with db.transaction() as conn:
        link = await _claim(conn, "invite", token)
        user = await conn.fetchrow(
            "SELECT id, is_active FROM app_user WHERE lower(email) = $1 FOR UPDATE", link["email"]
        )
        if user is None:
            if new_hash is None:
                raise LinkGone(detail=LINK_GONE)
            user_id = await conn.fetchval(
                """INSERT INTO app_user (email, name, password_hash) VALUES ($1, $2, $3)
                   RETURNING id""",
                link["email"],
                (name.strip() or link["name"] or link["email"].split("@", 1)[0])[:200],
                new_hash,
            )
            await conn.execute(
                "INSERT INTO membership (school_id, user_id, role) VALUES ($1, $2, $3)",
                link["school_id"],
                user_id,
                link["role"],
            )
            role = str(link["role"])
        else:
            if new_hash is not None:
                # The account was made after this link was opened: its password was never
                # proved here, so the link cannot sign anyone in to it (nor change it).
                raise LinkGone(detail=LINK_GONE)
            if not user["is_active"]:
                raise PermissionDeniedException("This account is deactivated.")
            user_id = user["id"]
            membership = await conn.fetchrow(
                "SELECT role FROM membership WHERE user_id = $1 AND school_id = $2",
                user_id,
                link["school_id"],
            )
            if membership is None or membership["role"] != link["role"]:
                raise Conflict(detail="This account already exists with another role.")
            role = str(membership["role"])
        if link["student_id"] is not None:
            await _add_guardianship(conn, link, int(user_id))
        await audit.record(
            None,
            action="accept_invite",
            record_type="account_link",
            record_id=link["id"],
            student_id=link["student_id"],
            school_id=link["school_id"],
            detail={"user_id": int(user_id), "role": role},
            conn=conn,
        )
    return Accepted(user_id=int(user_id), school_id=int(link["school_id"]), role=role)


async def _add_guardianship(conn: asyncpg.Connection, link: Any, parent_id: int) -> None:
    student_id = link["student_id"]
    revoked = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM guardianship WHERE parent_id = $1 AND student_id = $2 "
        "AND revoked)",
        parent_id,
        student_id,
    )
    if revoked:
        raise PermissionDeniedException(REVOKED_GUARDIAN)
    current = await conn.fetchval(
        """SELECT 1 FROM guardianship WHERE parent_id = $1 AND student_id = $2
              AND (ends_at IS NULL OR ends_at > now())""",
        parent_id,
        student_id,
    )
    if current is None:
        await conn.execute(
            """INSERT INTO guardianship (school_id, parent_id, student_id, relationship)
               VALUES ($1, $2, $3, coalesce($4, 'guardian'))""",
            link["school_id"],
            parent_id,
            student_id,
            link["relationship"],
        )


async def _may_still_reset(
    conn: asyncpg.Connection, *, user_id: int, creator_id: int, school_id: int
) -> bool:
    """Whether the maker of a reset link may (still) reset this account: an admin of the
    school, or a teacher while every child of the parent is in their scope."""
    role = await conn.fetchval(
        """SELECT m.role FROM membership m JOIN app_user u ON u.id = m.user_id
            WHERE m.user_id = $1 AND m.school_id = $2 AND u.is_active""",
        creator_id,
        school_id,
    )
    if role == "admin":
        return True
    return role == "teacher" and bool(
        await conn.fetchval(_TEACHER_MAY_RESET, user_id, creator_id, school_id)
    )


async def accept_reset(token: str, *, password: str) -> Accepted:
    """Use a reset link: set the new password and end every session the user had. The
    rule of who may reset whom is judged again now: a teacher's link made while every
    child of the parent was in the caseload dies if one is no longer."""
    if not _valid_token(token):
        raise NotFoundException("No such link.")
    new_hash = await hash_password(password)
    async with db.transaction() as conn:
        link = await _claim(conn, "reset", token)
        if not await _may_still_reset(
            conn,
            user_id=int(link["user_id"]),
            creator_id=int(link["created_by"]),
            school_id=int(link["school_id"]),
        ):
            raise LinkGone(detail=RESET_NO_LONGER)
        user = await conn.fetchrow(
            """UPDATE app_user SET password_hash = $2 WHERE id = $1 AND is_active
               RETURNING id""",
            link["user_id"],
            new_hash,
        )
        if user is None:
            raise PermissionDeniedException("This account is deactivated.")
        role = await conn.fetchval(
            "SELECT role FROM membership WHERE user_id = $1 AND school_id = $2",
            link["user_id"],
            link["school_id"],
        )
        await conn.execute("DELETE FROM auth_session WHERE user_id = $1", link["user_id"])
        # Every other reset link of the account dies with this one: an older link, made
        # by someone else or leaked, must not set the password again afterwards.
        voided = await conn.fetch(
            """UPDATE account_link SET used_at = now()
                WHERE kind = 'reset' AND user_id = $1 AND used_at IS NULL AND id <> $2
            RETURNING id""",
            link["user_id"],
            link["id"],
        )
        await audit.record(
            None,
            action="password_reset",
            record_type="user",
            record_id=link["user_id"],
            school_id=link["school_id"],
            detail={"link_id": link["id"], "voided_links": [r["id"] for r in voided]},
            conn=conn,
        )
        await notices.record(
            conn,
            user_id=int(link["user_id"]),
            school_id=int(link["school_id"]),
            kind="password_reset",
            actor_id=link["created_by"],
        )
        school_name = await conn.fetchval(
            "SELECT name FROM school WHERE id = $1", link["school_id"]
        )
    await notices.mail_password_changed(str(link["email"]), str(school_name))
    return Accepted(user_id=int(link["user_id"]), school_id=int(link["school_id"]), role=str(role))


class FamilyRow(msgspec.Struct, frozen=True, kw_only=True):
    student_id: int
    first_name: str
    last_name: str
    parents: list[dict[str, Any]]


async def families(actor: CurrentUser, *, request_id: str | None = None) -> list[FamilyRow]:
    """The students in the actor's scope with their current (unrevoked) guardians."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT s.id, s.first_name, s.last_name, u.id AS parent_id, u.name, u.email,
                      g.relationship
                 FROM tandem_student_scope($1, $2, $3, now()) sc
                 JOIN student s ON s.id = sc.student_id
                 LEFT JOIN guardianship g ON g.student_id = s.id AND NOT g.revoked
                      AND g.starts_at <= now() AND (g.ends_at IS NULL OR g.ends_at > now())
                 LEFT JOIN app_user u ON u.id = g.parent_id AND u.is_active
                ORDER BY lower(s.last_name), lower(s.first_name), s.id, u.name""",
            actor.id,
            actor.school_id,
            actor.role,
        )
        # Which parents this actor may make a password link for (the families page offers
        # the button only there; create_reset judges again).
        may_reset = {r["parent_id"] for r in rows if r["parent_id"] is not None}
        if actor.role == "teacher":
            may_reset = {
                p
                for p in may_reset
                if await conn.fetchval(_TEACHER_MAY_RESET, p, actor.id, actor.school_id)
            }
        await audit.record(
            actor,
            action="list",
            record_type="guardians",
            request_id=request_id,
            detail={"student_ids": sorted({r["id"] for r in rows})},
            conn=conn,
        )
    out: dict[int, FamilyRow] = {}
    for r in rows:
        row = out.setdefault(
            r["id"],
            FamilyRow(
                student_id=r["id"], first_name=r["first_name"], last_name=r["last_name"], parents=[]
            ),
        )
        if r["parent_id"] is not None:
            row.parents.append(
                {
                    "id": r["parent_id"],
                    "name": r["name"],
                    "email": r["email"],
                    "relationship": r["relationship"],
                    "may_reset": r["parent_id"] in may_reset,
                }
            )
    return list(out.values())
