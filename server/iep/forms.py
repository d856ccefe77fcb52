"""From an HTML form to the same Structs the JSON API takes, with messages for people.

Form fields arrive as strings; a few need shaping first (an empty number is "none", a
checkbox is present or absent, task-analysis steps are one per line). Then msgspec checks
them exactly as it checks JSON, unknown fields included.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from server.iep.schemas import InputProblem

T = TypeVar("T")

FIELD_LABELS = {
    "start_date": "Start date",
    "end_date": "End date",
    "status": "Status",
    "area": "Area",
    "description": "Description",
    "measurement": "Measurement type",
    "baseline": "Baseline",
    "target": "Target",
    "mastery_criterion": "Mastery criterion",
    "rating_max": "Top score",
    "task_steps": "Task-analysis steps",
    "rating_anchors": "Score anchors",
    "home_practice": "Home practice",
    "direction": "Direction",
    "measure_name": "What is measured",
    "continuous": "One continuous run",
    "setting": "Setting",
    "service_type": "Service type",
    "minutes": "Minutes",
    "period": "Period",
    "provider_id": "Provider",
    "active": "Active",
}

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Expected `(?:str|array)` of length >= 1"), "is required"),
    (re.compile(r"^Expected `str` of length <= (\d+)"), "may be at most {0} characters"),
    (re.compile(r"^Expected `array` of length <= (\d+)"), "may have at most {0} entries"),
    (re.compile(r"^Expected `int` >= (\d+)"), "must be at least {0}"),
    (re.compile(r"^Expected `int` <= (\d+)"), "must be at most {0}"),
    (re.compile(r"^Expected `int.*`, got"), "must be a whole number"),
    (re.compile(r"^Number out of range"), "is too large"),
    (re.compile(r"^Invalid enum value"), "is not one of the choices"),
    (
        re.compile(r"^(?:Invalid RFC3339 encoded date|Expected `date)"),
        "must be a date (YYYY-MM-DD)",
    ),
    (re.compile(r"^Expected `bool"), "must be yes or no"),
    (re.compile(r"^Object missing required field `(\w+)`"), "is required"),
]


def friendly(error: msgspec.ValidationError) -> str:
    """A msgspec message (`Expected ... - at `$.area``) as a sentence about a field."""
    text = str(error)
    unknown = re.match(r"^Object contains unknown field `([^`]*)`", text)
    if unknown:
        return f"Unknown field “{unknown.group(1)[:60]}”: it cannot be set here."
    missing = re.match(r"^Object missing required field `(\w+)`", text)
    where = re.search(r" - at `\$\.(\w+)", text)
    field = missing.group(1) if missing else (where.group(1) if where else None)
    message = re.sub(r" - at `[^`]*`$", "", text)
    if field is None:
        return message if message.endswith(".") else message + "."
    label = FIELD_LABELS.get(field, field)
    for pattern, template in _RULES:
        m = pattern.match(message)
        if m:
            return f"{label} {template.format(*m.groups())}."
    return f"{label}: {message}."


class FormProblem(ValueError):
    pass


def convert(data: dict[str, Any], kind: type[T]) -> T:
    """Build `kind` from form data; raises FormProblem with a message for the page."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, InputProblem):
            raise FormProblem(str(cause)) from exc
        raise FormProblem(friendly(exc)) from exc


def fields(form: Any) -> dict[str, Any]:
    """The submitted fields, without the CSRF token; a field sent twice is refused."""
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "_csrf_token":
            continue
        if key in out:
            raise FormProblem(f"The field “{key[:60]}” was sent twice.")
        if not isinstance(value, str):
            raise FormProblem("Files cannot be uploaded here.")
        out[key] = value
    return out


def goal_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Shape the goal form: optional score, checkbox, one step per line."""
    shaped = dict(data)
    if shaped.get("rating_max", "").strip() == "":
        shaped.pop("rating_max", None)
    if "task_steps" in shaped:
        lines = [line.strip() for line in str(shaped["task_steps"]).splitlines()]
        shaped["task_steps"] = [line for line in lines if line]
    if "rating_anchors" in shaped:
        # One per score from 0, one per line; a blank line in between names nothing.
        anchors = [line.strip() for line in str(shaped["rating_anchors"]).splitlines()]
        while anchors and not anchors[-1]:
            anchors.pop()
        shaped["rating_anchors"] = anchors
    shaped["home_practice"] = shaped.get("home_practice", "") in ("true", "on", "1")
    shaped["continuous"] = shaped.get("continuous", "") in ("true", "on", "1")
    return shaped


def service_fields(data: dict[str, Any]) -> dict[str, Any]:
    shaped = dict(data)
    if shaped.get("provider_id", "").strip() == "":
        shaped.pop("provider_id", None)
    return shaped
