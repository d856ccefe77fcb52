"""Importing a school's roster from CSV: all rows are checked first, then everything is
written in one transaction, so a file with any bad row imports nothing.

Columns (header row required; only the first two are required):
  first_name, last_name, grade, date_of_birth (YYYY-MM-DD), external_id,
  teacher_email  (teachers/providers of the caseload, ';' between several),
  aide_email     (aides assigned, ';' between several),
  guardian_email, guardian_name, guardian_relationship
Teachers and aides must already have accounts in the school. A guardian who has a parent
account in the school is linked at once; one who has none gets a single-use invitation
(printed), which creates the account and the guardianship when accepted.
Rows are numbered as in a spreadsheet: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from server import db
from server.validation import MAX_DATE, MIN_DATE, text_problem

REQUIRED = ("first_name", "last_name")
OPTIONAL = (
    "grade",
    "date_of_birth",
    "external_id",
    "teacher_email",
    "aide_email",
    "guardian_email",
    "guardian_name",
    "guardian_relationship",
)
MAX_ROWS = 5000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
CASELOAD_ROLES = ("teacher", "provider")


@dataclass
class Row:
    number: int
    first_name: str
    last_name: str
    grade: str
    born: date | None
    external_id: str | None
    teachers: list[str]
    aides: list[str]
    guardian_email: str | None
    guardian_name: str
    relationship: str


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    students: int = 0
    caseload: int = 0
    assignments: int = 0
    guardianships: int = 0
    invitations: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"imported {self.students} students, {self.caseload} caseload links, "
            f"{self.assignments} aide assignments, {self.guardianships} guardianships"
        ]
        if self.invitations:
            lines.append("invitations for new guardians (single use):")
            lines += [f"  {email}: {url}" for email, url in self.invitations]
        return "\n".join(lines)


def _emails(value: str) -> list[str]:
    return [e.strip().lower() for e in value.split(";") if e.strip()]


def parse(text: str) -> tuple[list[Row], list[str]]:
    """The rows, or the problems: each names its row and column."""
    errors: list[str] = []
    problem = text_problem(text)
    if problem:
        return [], [f"file: {problem}"]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing:
        errors.append("row 1: missing column(s): " + ", ".join(missing))
    if unknown:
        errors.append("row 1: unknown column(s): " + ", ".join(unknown))
    if errors:
        return [], errors
    rows: list[Row] = []
    try:
        records = list(reader)
    except csv.Error as exc:
        return [], [f"file: not valid CSV ({exc})"]
    if len(records) > MAX_ROWS:
        return [], [f"file: {len(records)} rows; at most {MAX_ROWS} per import"]
    if not records:
        return [], ["file: no rows below the header"]
    for index, record in enumerate(records, start=2):
        if None in record:
            errors.append(f"row {index}: more cells than columns")
            continue
        cell = {k: (v or "").strip() for k, v in record.items()}
        row_errors: list[str] = []

        def need(name: str, value: str, low: int, high: int) -> None:
            if not low <= len(value) <= high:
                what = "is required" if not value and low else f"must have {low}–{high} characters"
                row_errors.append(f"row {index}: {name} {what}")  # noqa: B023

        need("first_name", cell["first_name"], 1, 100)
        need("last_name", cell["last_name"], 1, 100)
        need("grade", cell.get("grade", ""), 0, 20)
        need("guardian_name", cell.get("guardian_name", ""), 0, 200)
        need("guardian_relationship", cell.get("guardian_relationship", ""), 0, 40)
        born: date | None = None
        if cell.get("date_of_birth"):
            try:
                born = date.fromisoformat(cell["date_of_birth"])
            except ValueError:
                row_errors.append(
                    f"row {index}: date_of_birth {cell['date_of_birth'][:20]!r} is not a date "
                    "(YYYY-MM-DD)"
                )
            else:
                if not MIN_DATE <= born <= MAX_DATE:
                    row_errors.append(f"row {index}: date_of_birth is out of range")
        external_id = cell.get("external_id") or None
        if external_id and not EXTERNAL_ID.match(external_id):
            row_errors.append(
                f"row {index}: external_id may use letters, digits, '.', '_' and '-' (64 at most)"
            )
        teachers = _emails(cell.get("teacher_email", ""))
        aides = _emails(cell.get("aide_email", ""))
        guardian = cell.get("guardian_email", "").lower() or None
        for column, values in (
            ("teacher_email", teachers),
            ("aide_email", aides),
            ("guardian_email", [guardian] if guardian else []),
        ):
            for email in values:
                if len(email) > 254 or not EMAIL.match(email):
                    row_errors.append(f"row {index}: {column} {email[:60]!r} is not an email")
        errors.extend(row_errors)
        rows.append(
            Row(
                number=index,
                first_name=cell["first_name"],
                last_name=cell["last_name"],
                grade=cell.get("grade", ""),
                born=born,
                external_id=external_id,
                teachers=teachers,
                aides=aides,
                guardian_email=guardian,
                guardian_name=cell.get("guardian_name", ""),
                relationship=cell.get("guardian_relationship", "") or "guardian",
            )
        )
    seen: dict[str, int] = {}
    for row in rows:
        if row.external_id:
            if row.external_id in seen:
                errors.append(
                    f"row {row.number}: external_id {row.external_id!r} repeats row "
                    f"{seen[row.external_id]}"
                )
            seen.setdefault(row.external_id, row.number)
    return rows, errors


async def import_roster(school_id: int, text: str) -> ImportResult:
    """Check every row against the file and the database, then import all or nothing."""
    result = ImportResult()
    rows, result.errors = parse(text)
    if not rows:
        return result
    try:
        return await _check_and_write(school_id, rows, result)
    finally:
        result.errors.sort(key=_row_of)


def _row_of(error: str) -> int:
    match = re.match(r"row (\d+):", error)
    return int(match.group(1)) if match else 0


async def _check_and_write(school_id: int, rows: list[Row], result: ImportResult) -> ImportResult:
    from server.auth.invites import operator_link

    async with db.transaction() as conn:
        if await conn.fetchval("SELECT 1 FROM school WHERE id = $1", school_id) is None:
            result.errors.append(f"school: no school with id {school_id}")
            return result
        people = {
            r["email"]: (r["id"], r["role"], r["is_active"])
            for r in await conn.fetch(
                """SELECT lower(u.email) AS email, u.id, m.role, u.is_active
                     FROM app_user u JOIN membership m ON m.user_id = u.id
                    WHERE m.school_id = $1""",
                school_id,
            )
        }
        ids = [r.external_id for r in rows if r.external_id]
        taken = {
            r["external_id"]
            for r in await conn.fetch(
                "SELECT external_id FROM student WHERE school_id = $1 "
                "AND external_id = ANY($2::text[])",
                school_id,
                ids,
            )
        }
        guardian_emails = sorted({r.guardian_email for r in rows if r.guardian_email})
        elsewhere = {
            r["email"]
            for r in await conn.fetch(
                """SELECT lower(u.email) AS email FROM app_user u
                    WHERE lower(u.email) = ANY($1::text[])
                      AND NOT EXISTS (SELECT 1 FROM membership m
                                       WHERE m.user_id = u.id AND m.school_id = $2)""",
                guardian_emails,
                school_id,
            )
        }
        for row in rows:
            n = row.number
            if row.external_id in taken:
                result.errors.append(f"row {n}: external_id {row.external_id!r} already exists")
            for column, emails, roles in (
                ("teacher_email", row.teachers, CASELOAD_ROLES),
                ("aide_email", row.aides, ("aide",)),
            ):
                for email in emails:
                    person = people.get(email)
                    if person is None:
                        result.errors.append(f"row {n}: {column} {email} has no account here")
                    elif person[1] not in roles or not person[2]:
                        state = "" if person[2] else ", deactivated"
                        result.errors.append(
                            f"row {n}: {column} {email} has the role {person[1]}{state}; "
                            f"needs {' or '.join(roles)}"
                        )
            if row.guardian_email:
                person = people.get(row.guardian_email)
                if row.guardian_email in elsewhere:
                    result.errors.append(
                        f"row {n}: guardian_email {row.guardian_email} has an account in "
                        "another school"
                    )
                elif person is not None and person[1] != "parent":
                    result.errors.append(
                        f"row {n}: guardian_email {row.guardian_email} has the role "
                        f"{person[1]}; needs parent"
                    )
        if result.errors:
            return result
        admin = await conn.fetchval(
            """SELECT m.user_id FROM membership m JOIN app_user u ON u.id = m.user_id
                WHERE m.school_id = $1 AND m.role = 'admin' AND u.is_active
                ORDER BY m.id LIMIT 1""",
            school_id,
        )
        if admin is None and any(r.guardian_email and r.guardian_email not in people for r in rows):
            result.errors.append(
                f"school: school {school_id} has no active admin to send guardian invitations"
            )
            return result
        for row in rows:
            student_id = await conn.fetchval(
                """INSERT INTO student (school_id, first_name, last_name, grade, date_of_birth,
                                        external_id)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
                school_id,
                row.first_name,
                row.last_name,
                row.grade,
                row.born,
                row.external_id,
            )
            result.students += 1
            for email in row.teachers:
                await conn.execute(
                    "INSERT INTO caseload_link (school_id, teacher_id, student_id) "
                    "VALUES ($1, $2, $3)",
                    school_id,
                    people[email][0],
                    student_id,
                )
                result.caseload += 1
            for email in row.aides:
                await conn.execute(
                    "INSERT INTO assignment (school_id, aide_id, student_id) VALUES ($1, $2, $3)",
                    school_id,
                    people[email][0],
                    student_id,
                )
                result.assignments += 1
            if row.guardian_email and row.guardian_email in people:
                await conn.execute(
                    """INSERT INTO guardianship (school_id, parent_id, student_id, relationship)
                       VALUES ($1, $2, $3, $4)""",
                    school_id,
                    people[row.guardian_email][0],
                    student_id,
                    row.relationship,
                )
                result.guardianships += 1
            elif row.guardian_email:
                url = await operator_link(
                    conn,
                    school_id=school_id,
                    kind="invite",
                    email=row.guardian_email,
                    name=row.guardian_name,
                    role="parent",
                    student_id=student_id,
                    user_id=None,
                    created_by=int(admin),
                    relationship=row.relationship,
                )
                result.invitations.append((row.guardian_email, url))
        await conn.execute(
            """INSERT INTO audit_log (school_id, record_type, action, detail)
               VALUES ($1, 'roster', 'import', $2::jsonb)""",
            school_id,
            f'{{"students": {result.students}, "by": "operator cli"}}',
        )
    return result
