"""IEPs and what they contain: goals, objectives, accommodations, services."""

from piccolo.columns import BigInt, BigSerial, Boolean, Date, Integer, Text, Timestamptz
from piccolo.columns.column_types import JSONB
from piccolo.table import Table


class Iep(Table, tablename="iep"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    student_id = BigInt()
    start_date = Date()
    end_date = Date()
    status = Text(default="active")
    revision = Integer(default=1)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Goal(Table, tablename="goal"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    iep_id = BigInt()
    student_id = BigInt()
    area = Text()
    description = Text()
    measurement = Text()
    baseline = Text(default="")
    target = Text(default="")
    mastery_criterion = Text(default="")
    rating_max = Integer(null=True, default=None)
    task_steps = JSONB(default=[])
    rating_anchors = JSONB(default=[])
    home_practice = Boolean(default=False)
    direction = Text(default="increase")
    measure_name = Text(default="")
    continuous = Boolean(default=False)
    parent_texts = JSONB(default={})
    active = Boolean(default=True)
    position = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Objective(Table, tablename="objective"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    goal_id = BigInt()
    description = Text()
    position = Integer(default=0)


class Accommodation(Table, tablename="accommodation"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    iep_id = BigInt()
    description = Text()
    setting = Text(default="")


class Service(Table, tablename="service"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    iep_id = BigInt()
    student_id = BigInt()
    service_type = Text()
    minutes = Integer()
    period = Text()
    provider_id = BigInt(null=True, default=None)
    provider_since = Timestamptz(null=True, default=None)
    provider_ended_at = Timestamptz(null=True, default=None)
    setting = Text(default="")
