"""Roster and account commands for operators (create a school, users, invitations, CSV).

python -m server.cli create-school --name "Maple Grove" --admin-email a@x --admin-name "A B"
python -m server.cli create-user --school 1 --email t@x --name "T" --role teacher
python -m server.cli invite --school 1 --email p@x --role parent --student 12
python -m server.cli reset-link --email t@x
python -m server.cli import-roster --school 1 roster.csv
python -m server.cli seed-demo

Passwords are never given on the command line (they would sit in the shell history and
the process list): new accounts get a single-use link to choose their password, or read
one from standard input with --password-stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from server import db

Command = Callable[[argparse.Namespace], int]

ROLES = ("admin", "teacher", "provider", "aide", "parent")


class OperatorError(Exception):
    """A problem the operator can fix; printed without a traceback, exit status 1."""


def _run(work: Callable[[], Awaitable[str]]) -> int:
    """Resolve the database (embedded or DATABASE_URL), run `work`, print. Operator
    commands need only the app's privileges; they may also run as the owner."""
    from server.cli import bootstrap
    from server.settings import get_settings

    database = bootstrap(get_settings(), app_process=False)
    try:

        async def with_pool() -> str:
            await db.start_pool()
            try:
                return await work()
            finally:
                await db.close_pool()

        output = asyncio.run(with_pool())
    except OperatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        database.stop()
    print(output)
    return 0


def _read_password(args: argparse.Namespace) -> str | None:
    if not getattr(args, "password_stdin", False):
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise OperatorError("the password must have at least 8 characters")
    if len(password) > 1024:
        raise OperatorError("the password is too long (1024 characters at most)")
    return password


def _check_email(email: str) -> str:
    import re

    email = email.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        raise OperatorError(f"not an email address: {email!r}")
    return email


def _check_name(name: str, what: str = "name") -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise OperatorError(f"the {what} must have 1 to 200 characters")
    return name


async def _new_user(
    conn: Any, *, school_id: int, email: str, name: str, role: str, password: str | None
) -> int:
    from server.auth.passwords import hash_password

    taken = await conn.fetchval("SELECT 1 FROM app_user WHERE lower(email) = $1", email)
    if taken:
        raise OperatorError(f"{email} already has an account")
    hashed = await hash_password(password) if password else None
    user_id = await conn.fetchval(
        "INSERT INTO app_user (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id",
        email,
        name,
        hashed,
    )
    await conn.execute(
        "INSERT INTO membership (school_id, user_id, role) VALUES ($1, $2, $3)",
        school_id,
        user_id,
        role,
    )
    return int(user_id)


async def _school(conn: Any, school_id: int) -> str:
    name = await conn.fetchval("SELECT name FROM school WHERE id = $1", school_id)
    if name is None:
        raise OperatorError(f"no school with id {school_id}")
    return str(name)


async def _first_admin(conn: Any, school_id: int) -> int:
    admin = await conn.fetchval(
        """SELECT m.user_id FROM membership m JOIN app_user u ON u.id = m.user_id
            WHERE m.school_id = $1 AND m.role = 'admin' AND u.is_active
            ORDER BY m.id LIMIT 1""",
        school_id,
    )
    if admin is None:
        raise OperatorError(f"school {school_id} has no active admin")
    return int(admin)


async def _set_password_link(conn: Any, *, school_id: int, user_id: int, by: int) -> str:
    from server.auth.invites import operator_link

    row = await conn.fetchrow(
        """SELECT u.email, u.name, m.role FROM app_user u JOIN membership m
             ON m.user_id = u.id AND m.school_id = $2 WHERE u.id = $1""",
        user_id,
        school_id,
    )
    return await operator_link(
        conn,
        school_id=school_id,
        kind="reset",
        email=row["email"],
        name=row["name"],
        role=row["role"],
        student_id=None,
        user_id=user_id,
        created_by=by,
    )


async def _audit(conn: Any, school_id: int, action: str, record_type: str, record_id: Any) -> None:
    from server.audit import service as audit

    await audit.record(
        None,
        action=action,
        record_type=record_type,
        record_id=record_id,
        school_id=school_id,
        detail={"by": "operator cli"},
        conn=conn,
    )


def cmd_create_school(args: argparse.Namespace) -> int:
    async def work() -> str:
        name = _check_name(args.name, "school name")
        email = _check_email(args.admin_email)
        admin_name = _check_name(args.admin_name, "admin name")
        password = _read_password(args)
        async with db.transaction() as conn:
            school_id = await conn.fetchval(
                "INSERT INTO school (name, timezone) VALUES ($1, $2) RETURNING id",
                name,
                args.timezone,
            )
            admin_id = await _new_user(
                conn,
                school_id=school_id,
                email=email,
                name=admin_name,
                role="admin",
                password=password,
            )
            await _audit(conn, school_id, "create", "school", school_id)
            lines = [f"school {school_id} created: {name}", f"admin {admin_id}: {email}"]
            if password is None:
                link = await _set_password_link(
                    conn, school_id=school_id, user_id=admin_id, by=admin_id
                )
                lines.append(f"set-password link (single use): {link}")
        return "\n".join(lines)

    return _run(work)


def cmd_create_user(args: argparse.Namespace) -> int:
    async def work() -> str:
        email = _check_email(args.email)
        name = _check_name(args.name)
        password = _read_password(args)
        async with db.transaction() as conn:
            await _school(conn, args.school)
            user_id = await _new_user(
                conn,
                school_id=args.school,
                email=email,
                name=name,
                role=args.role,
                password=password,
            )
            await _audit(conn, args.school, "create", "user", user_id)
            lines = [f"user {user_id} created: {email} ({args.role})"]
            if password is None:
                by = await _first_admin(conn, args.school)
                link = await _set_password_link(conn, school_id=args.school, user_id=user_id, by=by)
                lines.append(f"set-password link (single use): {link}")
        return "\n".join(lines)

    return _run(work)


def cmd_invite(args: argparse.Namespace) -> int:
    async def work() -> str:
        from server.auth.invites import operator_link

        email = _check_email(args.email)
        if (args.role == "parent") != (args.student is not None):
            raise OperatorError("a parent invitation needs --student; other roles take none")
        async with db.transaction() as conn:
            await _school(conn, args.school)
            exists = await conn.fetchval("SELECT 1 FROM app_user WHERE lower(email) = $1", email)
            if exists and args.role != "parent":
                raise OperatorError(f"{email} already has an account")
            if args.student is not None:
                student = await conn.fetchval(
                    "SELECT 1 FROM student WHERE id = $1 AND school_id = $2",
                    args.student,
                    args.school,
                )
                if not student:
                    raise OperatorError(f"no student {args.student} in school {args.school}")
                revoked = await conn.fetchval(
                    """SELECT 1 FROM guardianship g JOIN app_user u ON u.id = g.parent_id
                        WHERE lower(u.email) = $1 AND g.student_id = $2 AND g.revoked""",
                    email,
                    args.student,
                )
                if revoked:
                    raise OperatorError(
                        "this person's guardianship of this student was revoked; "
                        "an invitation cannot restore it"
                    )
            by = await _first_admin(conn, args.school)
            link = await operator_link(
                conn,
                school_id=args.school,
                kind="invite",
                email=email,
                name=(args.name or "").strip()[:200],
                role=args.role,
                student_id=args.student,
                user_id=None,
                created_by=by,
            )
            await _audit(conn, args.school, "invite", "account_link", email)
        return f"invitation for {email} ({args.role}), single use: {link}"

    return _run(work)


def cmd_reset_link(args: argparse.Namespace) -> int:
    async def work() -> str:
        email = _check_email(args.email)
        async with db.transaction() as conn:
            row = await conn.fetchrow(
                """SELECT u.id, m.school_id FROM app_user u JOIN membership m ON m.user_id = u.id
                    WHERE lower(u.email) = $1 AND u.is_active ORDER BY m.id LIMIT 1""",
                email,
            )
            if row is None:
                raise OperatorError(f"no active account for {email}")
            by = await _first_admin(conn, row["school_id"])
            link = await _set_password_link(
                conn, school_id=row["school_id"], user_id=row["id"], by=by
            )
            await _audit(conn, row["school_id"], "reset_link", "user", row["id"])
        return f"password reset link for {email}, single use: {link}"

    return _run(work)


def cmd_import_roster(args: argparse.Namespace) -> int:
    from server.roster import csv_import

    path = Path(args.csv)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 1

    async def work() -> str:
        result = await csv_import.import_roster(args.school, text)
        if result.errors:
            raise OperatorError(
                f"{len(result.errors)} problem(s) in {path}; nothing was imported:\n  "
                + "\n  ".join(result.errors)
            )
        return result.summary()

    return _run(work)


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from server.demo import seed_demo

    return _run(seed_demo)


def register(sub: Any, commands: dict[str, Command]) -> None:
    """Add this module's subcommands to the CLI parser."""
    p = sub.add_parser("create-school", help="create a school and its first admin")
    p.add_argument("--name", required=True)
    p.add_argument("--timezone", default="America/New_York")
    p.add_argument("--admin-email", required=True)
    p.add_argument("--admin-name", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the admin's password")
    commands["create-school"] = cmd_create_school

    p = sub.add_parser("create-user", help="create a staff or parent account in a school")
    p.add_argument("--school", type=int, required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--password-stdin", action="store_true")
    commands["create-user"] = cmd_create_user

    p = sub.add_parser("invite", help="print a single-use invitation link")
    p.add_argument("--school", type=int, required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--student", type=int, help="the student (parent invitations)")
    commands["invite"] = cmd_invite

    p = sub.add_parser("reset-link", help="print a single-use password reset link")
    p.add_argument("--email", required=True)
    commands["reset-link"] = cmd_reset_link

    p = sub.add_parser(
        "import-roster",
        help="import students (and optionally caseload, aides, guardians) from CSV",
    )
    p.add_argument("--school", type=int, required=True)
    p.add_argument("csv", help="UTF-8 CSV with a header row (see docs/architecture.md)")
    commands["import-roster"] = cmd_import_roster

    p = sub.add_parser("seed-demo", help="add the demo school if the database has no school")
    commands["seed-demo"] = cmd_seed_demo
