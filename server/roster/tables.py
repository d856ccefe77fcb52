"""Schools, people and the links between staff, families and students."""

from piccolo.columns import (
    BigInt,
    BigSerial,
    Boolean,
    Date,
    Text,
    Time,
    Timestamptz,
)
from piccolo.table import Table


class School(Table, tablename="school"):
    id = BigSerial(primary_key=True)
    name = Text()
    timezone = Text(default="America/New_York")
    created_at = Timestamptz()


class AppUser(Table, tablename="app_user"):
    id = BigSerial(primary_key=True)
    email = Text()
    name = Text()
    password_hash = Text(null=True, default=None)
    timezone = Text(default="America/New_York")
    language = Text(default="en")
    notify_mode = Text(default="immediate")
    quiet_start = Time(null=True, default=None)
    quiet_end = Time(null=True, default=None)
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    notice_pending = Boolean(default=False)


class Membership(Table, tablename="membership"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    user_id = BigInt()
    role = Text()
    created_at = Timestamptz()


class Student(Table, tablename="student"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    first_name = Text()
    last_name = Text()
    date_of_birth = Date(null=True, default=None)
    grade = Text(default="")
    external_id = Text(null=True, default=None)
    created_at = Timestamptz()
    archived_at = Timestamptz(null=True, default=None)


class CaseloadLink(Table, tablename="caseload_link"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    teacher_id = BigInt()
    student_id = BigInt()
    starts_at = Timestamptz()
    ends_at = Timestamptz(null=True, default=None)


class Assignment(Table, tablename="assignment"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    aide_id = BigInt()
    student_id = BigInt()
    starts_at = Timestamptz()
    ends_at = Timestamptz(null=True, default=None)


class Guardianship(Table, tablename="guardianship"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    parent_id = BigInt()
    student_id = BigInt()
    relationship = Text(default="guardian")
    starts_at = Timestamptz()
    ends_at = Timestamptz(null=True, default=None)
    revoked = Boolean(default=False)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Text(null=True, default=None)
