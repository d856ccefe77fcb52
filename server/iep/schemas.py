"""IEP boundary schemas: what a client may send (…In, …Patch) and what it gets back (…Out).

Every input Struct forbids unknown fields, so a body that tries to set `student_id`,
`school_id`, `created_by`, `approved` or `role` is refused rather than ignored. Cross-field
rules (dates in order, a rating goal's scale, a task analysis's steps) are plain
functions below, shared by the JSON API, the pages and the unit tests.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.validation import MAX_DATE, MIN_DATE, Id

IepStatus = Literal["draft", "active", "closed"]
Measurement = Literal["trials", "frequency", "duration", "rating", "task_analysis"]
Period = Literal["week", "month"]
Direction = Literal["increase", "decrease"]

MEASUREMENTS: tuple[str, ...] = ("trials", "frequency", "duration", "rating", "task_analysis")
MEASUREMENT_LABELS = {
    "trials": "Trials (correct / incorrect / no response, with prompt level)",
    "frequency": "Frequency (tally)",
    "duration": "Duration (timer)",
    "rating": "Rating / rubric score",
    "task_analysis": "Task analysis (steps)",
}
STATUS_LABELS = {"draft": "Draft", "active": "Active", "closed": "Closed"}
PERIOD_LABELS = {"week": "per week", "month": "per month"}

RATING_MIN, RATING_MAX = 2, 10
MAX_TASK_STEPS = 30
MAX_STEP_LENGTH = 120
MAX_ANCHOR_LENGTH = 40

Area = Annotated[str, Meta(min_length=1, max_length=80)]
GoalText = Annotated[str, Meta(min_length=1, max_length=2000)]
GoalDetail = Annotated[str, Meta(max_length=500)]
# "call-outs per lesson": what the number counts, in words a parent reads.
MeasureName = Annotated[str, Meta(max_length=80)]
RatingMax = Annotated[int, Meta(ge=RATING_MIN, le=RATING_MAX)]
TaskStep = Annotated[str, Meta(min_length=1, max_length=MAX_STEP_LENGTH)]
TaskSteps = Annotated[list[TaskStep], Meta(max_length=MAX_TASK_STEPS)]
# What each value of a rating scale means, 0 first; a blank label names nothing.
RatingAnchor = Annotated[str, Meta(max_length=MAX_ANCHOR_LENGTH)]
RatingAnchors = Annotated[list[RatingAnchor], Meta(max_length=RATING_MAX + 1)]
ItemText = Annotated[str, Meta(min_length=1, max_length=1000)]
Setting = Annotated[str, Meta(max_length=200)]
ServiceType = Annotated[str, Meta(min_length=1, max_length=80)]
Minutes = Annotated[int, Meta(ge=1, le=10000)]


class InputProblem(ValueError):
    """A rule a well-typed input still breaks; its message is shown to the user."""


def date_problem(name: str, value: date) -> str | None:
    if not (MIN_DATE <= value < MAX_DATE):
        return (
            f"The {name} must be on or after {MIN_DATE.isoformat()} "
            f"and before {MAX_DATE.isoformat()}."
        )
    return None


def iep_dates_problem(start: date, end: date) -> str | None:
    problem = date_problem("start date", start) or date_problem("end date", end)
    if problem:
        return problem
    if end < start:
        return "The end date must be on or after the start date."
    return None


def goal_measurement_problem(
    measurement: str, rating_max: int | None, task_steps: list[str]
) -> str | None:
    """What is wrong with this combination of measurement type, scale and steps."""
    if measurement == "rating":
        if rating_max is None:
            return f"A rating goal needs a top score between {RATING_MIN} and {RATING_MAX}."
        if not RATING_MIN <= rating_max <= RATING_MAX:
            return f"The top score must be between {RATING_MIN} and {RATING_MAX}."
    elif rating_max is not None:
        return "Only rating goals have a top score."
    if measurement == "task_analysis":
        if not 1 <= len(task_steps) <= MAX_TASK_STEPS:
            return f"A task analysis needs between 1 and {MAX_TASK_STEPS} steps."
        for step in task_steps:
            if not step.strip():
                return "Task-analysis steps may not be blank."
            if len(step) > MAX_STEP_LENGTH:
                return f"Each task-analysis step may be at most {MAX_STEP_LENGTH} characters."
    elif task_steps:
        return "Only task-analysis goals have steps."
    return None


def rating_anchors_problem(rating_max: int | None, anchors: list[str]) -> str | None:
    """Anchors are optional; given, there is one per value of the scale (0 … top score)."""
    if not anchors:
        return None
    if rating_max is None:
        return "Only rating goals have anchors."
    if len(anchors) != rating_max + 1:
        return f"Give one anchor per score, 0 to {rating_max} ({rating_max + 1} lines), or none."
    for anchor in anchors:
        if len(anchor) > MAX_ANCHOR_LENGTH:
            return f"Each anchor may be at most {MAX_ANCHOR_LENGTH} characters."
    return None


def blank_problem(**fields: str) -> str | None:
    for name, value in fields.items():
        if not value.strip():
            return f"The {name.replace('_', ' ')} may not be blank."
    return None


class IepIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    start_date: date
    end_date: date
    status: IepStatus = "draft"

    def __post_init__(self) -> None:
        problem = iep_dates_problem(self.start_date, self.end_date)
        if problem:
            raise InputProblem(problem)


class IepPatch(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    start_date: date | UnsetType = UNSET
    end_date: date | UnsetType = UNSET
    status: IepStatus | UnsetType = UNSET

    def __post_init__(self) -> None:
        for name, value in (("start date", self.start_date), ("end date", self.end_date)):
            if isinstance(value, date):
                problem = date_problem(name, value)
                if problem:
                    raise InputProblem(problem)


class GoalIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    area: Area
    description: GoalText
    measurement: Measurement
    baseline: GoalDetail = ""
    target: GoalDetail = ""
    mastery_criterion: GoalDetail = ""
    rating_max: RatingMax | None = None
    task_steps: TaskSteps = msgspec.field(default_factory=list)
    rating_anchors: RatingAnchors = msgspec.field(default_factory=list)
    home_practice: bool = False
    direction: Direction = "increase"
    measure_name: MeasureName = ""
    continuous: bool = False

    def __post_init__(self) -> None:
        problem = blank_problem(area=self.area, description=self.description)
        problem = problem or goal_measurement_problem(
            self.measurement, self.rating_max, self.task_steps
        )
        problem = problem or rating_anchors_problem(self.rating_max, self.rating_anchors)
        if problem:
            raise InputProblem(problem)


class GoalPatch(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Changes to a goal; the merged result is checked like a new goal."""

    area: Area | UnsetType = UNSET
    description: GoalText | UnsetType = UNSET
    measurement: Measurement | UnsetType = UNSET
    baseline: GoalDetail | UnsetType = UNSET
    target: GoalDetail | UnsetType = UNSET
    mastery_criterion: GoalDetail | UnsetType = UNSET
    rating_max: RatingMax | UnsetType | None = UNSET
    task_steps: TaskSteps | UnsetType = UNSET
    rating_anchors: RatingAnchors | UnsetType = UNSET
    home_practice: bool | UnsetType = UNSET
    direction: Direction | UnsetType = UNSET
    measure_name: MeasureName | UnsetType = UNSET
    continuous: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class ObjectiveIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    description: ItemText

    def __post_init__(self) -> None:
        problem = blank_problem(description=self.description)
        if problem:
            raise InputProblem(problem)


class AccommodationIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    description: ItemText
    setting: Setting = ""

    def __post_init__(self) -> None:
        problem = blank_problem(description=self.description)
        if problem:
            raise InputProblem(problem)


class ServiceIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    service_type: ServiceType
    minutes: Minutes
    period: Period
    provider_id: Id | None = None
    setting: Setting = ""

    def __post_init__(self) -> None:
        problem = blank_problem(service_type=self.service_type)
        if problem:
            raise InputProblem(problem)


class ObjectiveOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    goal_id: int
    description: str
    position: int


class GoalOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    iep_id: int
    student_id: int
    area: str
    description: str
    measurement: str
    baseline: str
    target: str
    mastery_criterion: str
    rating_max: int | None
    task_steps: list[str]
    rating_anchors: list[str] = msgspec.field(default_factory=list)
    home_practice: bool
    direction: str
    measure_name: str
    continuous: bool
    active: bool
    position: int
    objectives: list[ObjectiveOut]


class AccommodationOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    iep_id: int
    description: str
    setting: str


class ServiceOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    iep_id: int
    service_type: str
    minutes: int
    period: str
    provider_id: int | None
    provider_name: str | None
    setting: str
    provider_ended_at: datetime | None = None  # an admin ended the access it gave


class IepOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    student_id: int
    start_date: date
    end_date: date
    status: str
    revision: int
    goals: list[GoalOut]
    accommodations: list[AccommodationOut]
    services: list[ServiceOut]


class StudentSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    first_name: str
    last_name: str
    grade: str
    current_iep_id: int | None
    current_iep_status: str | None


class StudentRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One student's IEP record: every IEP (newest first), the current one named."""

    id: int
    first_name: str
    last_name: str
    grade: str
    current_iep_id: int | None
    ieps: list[IepOut]


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    role: str
