"""HTTP routes of the iep domain: the teacher's pages and the student-record JSON API.

Guards decide by role (staff read; teachers and admins write); the service decides by
student scope (out of scope → 404) and writes the audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from litestar import MediaType, Request, get, patch, post
from litestar.exceptions import ClientException, HTTPException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_400_BAD_REQUEST

from server import i18n
from server.auth.guards import STAFF, current_user, role_in
from server.bodies import READS_FORM
from server.iep import forms, service
from server.iep.schemas import (
    MEASUREMENT_LABELS,
    MEASUREMENTS,
    PERIOD_LABELS,
    STATUS_LABELS,
    AccommodationIn,
    GoalIn,
    GoalOut,
    GoalPatch,
    IepIn,
    IepOut,
    IepPatch,
    ObjectiveIn,
    ServiceIn,
    StudentRecord,
    StudentSummary,
)
from server.roster.service import staff_clock
from server.validation import Id

EDITORS = ("admin", "teacher")
read_guard = role_in(*STAFF)
edit_guard = role_in(*EDITORS)


# Statuses beyond those server/openapi.py derives (documented in the OpenAPI schema).
ONE_ACTIVE = {"errors": {409: service.ONE_ACTIVE}}
CLOSED = {"errors": {409: service.CLOSED}}
GOAL_CONFLICTS = {"errors": {409: f"{service.CLOSED} Or: {service.MEASUREMENT_LOCKED}"}}


def _rid(request: Request[Any, Any, Any]) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return str(value) if value else None


def _labels() -> dict[str, Any]:
    return {
        "measurement_labels": MEASUREMENT_LABELS,
        "measurements": MEASUREMENTS,
        "status_labels": STATUS_LABELS,
        "period_labels": PERIOD_LABELS,
    }


# ---------------------------------------------------------------- JSON API


@get("/api/students", guards=[read_guard], tags=["students"])
async def api_students(request: Request[Any, Any, Any]) -> list[StudentSummary]:
    """The students in the caller's scope, each with their current IEP."""
    return await service.caseload(current_user(request), request_id=_rid(request))


@get("/api/students/{student_id:int}", guards=[read_guard], tags=["students"])
async def api_student(request: Request[Any, Any, Any], student_id: Id) -> StudentRecord:
    """A student's IEPs with goals, objectives, accommodations and services."""
    return await service.student_record(current_user(request), student_id, request_id=_rid(request))


@post("/api/students/{student_id:int}/ieps", guards=[edit_guard], tags=["ieps"], opt=ONE_ACTIVE)
async def api_create_iep(
    request: Request[Any, Any, Any], student_id: Id, data: IepIn
) -> dict[str, int]:
    written = await service.create_iep(
        current_user(request), student_id, data, request_id=_rid(request)
    )
    return {"id": written.id}


@patch("/api/ieps/{iep_id:int}", guards=[edit_guard], tags=["ieps"], opt=ONE_ACTIVE)
async def api_update_iep(
    request: Request[Any, Any, Any], iep_id: Id, data: IepPatch
) -> dict[str, int]:
    await service.update_iep(current_user(request), iep_id, data, request_id=_rid(request))
    return {"id": iep_id}


@post("/api/ieps/{iep_id:int}/goals", guards=[edit_guard], tags=["ieps"], opt=CLOSED)
async def api_add_goal(request: Request[Any, Any, Any], iep_id: Id, data: GoalIn) -> dict[str, int]:
    written = await service.add_goal(current_user(request), iep_id, data, request_id=_rid(request))
    return {"id": written.id}


@patch("/api/goals/{goal_id:int}", guards=[edit_guard], tags=["ieps"], opt=GOAL_CONFLICTS)
async def api_update_goal(
    request: Request[Any, Any, Any], goal_id: Id, data: GoalPatch
) -> dict[str, int]:
    """Edit a goal; `{"active": false}` deactivates it (goals are never deleted)."""
    await service.update_goal(current_user(request), goal_id, data, request_id=_rid(request))
    return {"id": goal_id}


@post("/api/goals/{goal_id:int}/objectives", guards=[edit_guard], tags=["ieps"], opt=CLOSED)
async def api_add_objective(
    request: Request[Any, Any, Any], goal_id: Id, data: ObjectiveIn
) -> dict[str, int]:
    written = await service.add_objective(
        current_user(request), goal_id, data, request_id=_rid(request)
    )
    return {"id": written.id}


@post("/api/ieps/{iep_id:int}/accommodations", guards=[edit_guard], tags=["ieps"], opt=CLOSED)
async def api_add_accommodation(
    request: Request[Any, Any, Any], iep_id: Id, data: AccommodationIn
) -> dict[str, int]:
    written = await service.add_accommodation(
        current_user(request), iep_id, data, request_id=_rid(request)
    )
    return {"id": written.id}


@post("/api/ieps/{iep_id:int}/services", guards=[edit_guard], tags=["ieps"], opt=CLOSED)
async def api_add_service(
    request: Request[Any, Any, Any], iep_id: Id, data: ServiceIn
) -> dict[str, int]:
    written = await service.add_service(
        current_user(request), iep_id, data, request_id=_rid(request)
    )
    return {"id": written.id}


# ---------------------------------------------------------------- pages


@get("/teacher", guards=[read_guard], include_in_schema=False)
async def teacher_home(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    students = await service.caseload(user, request_id=_rid(request))
    return Template(
        media_type=MediaType.HTML,  # also when the handler returns a Redirect or a page
        template_name="teacher/home.html.j2",
        context={
            "students": students,
            "user": user,
            "may_review": user.role in EDITORS,
            "clock": await staff_clock(user),
            **_labels(),
        },
    )


async def _student_page(
    request: Request[Any, Any, Any],
    student_id: int,
    *,
    iep_id: int | None = None,
    error: str | None = None,
    error_form: str | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    user = current_user(request)
    record = await service.student_record(user, student_id, request_id=_rid(request))
    shown_id = iep_id if iep_id is not None else record.current_iep_id
    shown = next((i for i in record.ieps if i.id == shown_id), None)
    if iep_id is not None and shown is None:
        raise HTTPException(status_code=404, detail=service.IEP_NOT_FOUND)
    may_edit = user.role in EDITORS
    return Template(
        media_type=MediaType.HTML,  # also when the handler returns a Redirect or a page
        template_name="iep/student.html.j2",
        context={
            "student": record,
            "iep": shown,
            "other_ieps": [i for i in record.ieps if shown is None or i.id != shown.id],
            "may_edit": may_edit,
            "clock": await staff_clock(user),
            "providers": await service.providers(user) if may_edit else [],
            "error": error,
            "error_form": error_form,
            "values": values or {},
            **_labels(),
        },
        status_code=HTTP_400_BAD_REQUEST if error else 200,
    )


@get("/teacher/students/{student_id:int}", guards=[read_guard], include_in_schema=False)
async def student_page(
    request: Request[Any, Any, Any],
    student_id: Id,
    iep: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
) -> Template:
    """The student's current IEP (or, with ?iep=, an earlier one)."""
    return await _student_page(request, student_id, iep_id=iep)


def _iep_form(
    *,
    student: service.StudentHead,
    iep_id: int | None,
    values: dict[str, Any],
    error: str | None = None,
) -> Template:
    return Template(
        media_type=MediaType.HTML,  # also when the handler returns a Redirect or a page
        template_name="iep/iep_form.html.j2",
        context={
            "student": student,
            "iep_id": iep_id,
            "values": values,
            "error": error,
            **_labels(),
        },
        status_code=HTTP_400_BAD_REQUEST if error else 200,
    )


def _to_iep(written: service.Written, anchor: str = "") -> Redirect:
    return Redirect(path=f"/teacher/students/{written.student_id}?iep={written.iep_id}{anchor}")


def _message(exc: Exception) -> str:
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    return str(exc)


# What a form POST may fail with and still show its form again (a 404 or 403 does not).
FORM_ERRORS = (forms.FormProblem, ClientException, service.Conflict)


@get("/teacher/students/{student_id:int}/iep/new", guards=[edit_guard], include_in_schema=False)
async def new_iep_page(request: Request[Any, Any, Any], student_id: Id) -> Template:
    head = await service.student_head(current_user(request), student_id, request_id=_rid(request))
    return _iep_form(student=head, iep_id=None, values={"status": "draft"})


@post(
    "/teacher/students/{student_id:int}/iep",
    guards=[edit_guard],
    include_in_schema=False,
    opt=READS_FORM,
)
async def create_iep_form(request: Request[Any, Any, Any], student_id: Id) -> Any:
    user = current_user(request)
    values: dict[str, Any] = {}
    try:
        values = forms.fields(await request.form())
        data = forms.convert(values, IepIn)
        written = await service.create_iep(user, student_id, data, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head = await service.student_head(user, student_id, request_id=_rid(request))
        return _iep_form(student=head, iep_id=None, values=values, error=_message(exc))
    return _to_iep(written)


@get("/teacher/ieps/{iep_id:int}/edit", guards=[edit_guard], include_in_schema=False)
async def edit_iep_page(request: Request[Any, Any, Any], iep_id: Id) -> Template:
    head, iep = await service.iep_for_edit(current_user(request), iep_id, request_id=_rid(request))
    values = {
        "start_date": iep.start_date.isoformat(),
        "end_date": iep.end_date.isoformat(),
        "status": iep.status,
    }
    return _iep_form(student=head, iep_id=iep_id, values=values)


@post("/teacher/ieps/{iep_id:int}", guards=[edit_guard], include_in_schema=False, opt=READS_FORM)
async def update_iep_form(request: Request[Any, Any, Any], iep_id: Id) -> Any:
    user = current_user(request)
    values: dict[str, Any] = {}
    try:
        values = forms.fields(await request.form())
        data = forms.convert(values, IepPatch)
        written = await service.update_iep(user, iep_id, data, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head, _ = await service.iep_for_edit(user, iep_id, request_id=_rid(request))
        return _iep_form(student=head, iep_id=iep_id, values=values, error=_message(exc))
    return _to_iep(written)


def _goal_form(
    request: Request[Any, Any, Any],
    *,
    student: service.StudentHead,
    iep: IepOut,
    goal: GoalOut | None,
    values: dict[str, Any],
    error: str | None = None,
    objective_error: str | None = None,
) -> Template:
    return Template(
        media_type=MediaType.HTML,  # also when the handler returns a Redirect or a page
        template_name="iep/goal_form.html.j2",
        context={
            "student": student,
            "iep": iep,
            "goal": goal,
            "values": values,
            "error": error,
            "objective_error": objective_error,
            # An IEP's dates are calendar days: the reader's language is all they need.
            "clock": i18n.Clock(language=current_user(request).language, timezone=""),
            **_labels(),
        },
        status_code=HTTP_400_BAD_REQUEST if (error or objective_error) else 200,
    )


def _goal_values(goal: GoalOut) -> dict[str, Any]:
    return {
        "area": goal.area,
        "description": goal.description,
        "measurement": goal.measurement,
        "baseline": goal.baseline,
        "target": goal.target,
        "mastery_criterion": goal.mastery_criterion,
        "rating_max": "" if goal.rating_max is None else str(goal.rating_max),
        "task_steps": "\n".join(goal.task_steps),
        "rating_anchors": "\n".join(goal.rating_anchors),
        "home_practice": "true" if goal.home_practice else "",
        "measure_name": goal.measure_name,
        "direction": goal.direction,
        "continuous": "true" if goal.continuous else "",
    }


@get("/teacher/ieps/{iep_id:int}/goals/new", guards=[edit_guard], include_in_schema=False)
async def new_goal_page(request: Request[Any, Any, Any], iep_id: Id) -> Template:
    head, iep = await service.iep_for_edit(current_user(request), iep_id, request_id=_rid(request))
    return _goal_form(request, student=head, iep=iep, goal=None, values={"measurement": "trials"})


@post(
    "/teacher/ieps/{iep_id:int}/goals", guards=[edit_guard], include_in_schema=False, opt=READS_FORM
)
async def add_goal_form(request: Request[Any, Any, Any], iep_id: Id) -> Any:
    user = current_user(request)
    values: dict[str, Any] = {}
    try:
        values = forms.fields(await request.form())
        data = forms.convert(forms.goal_fields(values), GoalIn)
        written = await service.add_goal(user, iep_id, data, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head, iep = await service.iep_for_edit(user, iep_id, request_id=_rid(request))
        return _goal_form(
            request, student=head, iep=iep, goal=None, values=values, error=_message(exc)
        )
    return _to_iep(written)


@get("/teacher/goals/{goal_id:int}/edit", guards=[edit_guard], include_in_schema=False)
async def edit_goal_page(request: Request[Any, Any, Any], goal_id: Id) -> Template:
    head, iep, goal = await service.goal_for_edit(
        current_user(request), goal_id, request_id=_rid(request)
    )
    return _goal_form(request, student=head, iep=iep, goal=goal, values=_goal_values(goal))


@post("/teacher/goals/{goal_id:int}", guards=[edit_guard], include_in_schema=False, opt=READS_FORM)
async def update_goal_form(request: Request[Any, Any, Any], goal_id: Id) -> Any:
    user = current_user(request)
    values: dict[str, Any] = {}
    try:
        values = forms.fields(await request.form())
        full = forms.convert(forms.goal_fields(values), GoalIn)
        changes = GoalPatch(**{name: getattr(full, name) for name in full.__struct_fields__})
        written = await service.update_goal(user, goal_id, changes, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head, iep, goal = await service.goal_for_edit(user, goal_id, request_id=_rid(request))
        return _goal_form(
            request, student=head, iep=iep, goal=goal, values=values, error=_message(exc)
        )
    return _to_iep(written)


@post(
    "/teacher/goals/{goal_id:int}/active",
    guards=[edit_guard],
    include_in_schema=False,
    opt=READS_FORM,
)
async def goal_active_form(request: Request[Any, Any, Any], goal_id: Id) -> Any:
    """Deactivate (or reactivate) a goal: never deleted, since data refers to it."""
    user = current_user(request)
    try:
        values = forms.fields(await request.form())
        if set(values) != {"active"}:
            raise forms.FormProblem("Send only “active” (true or false).")
        data = forms.convert(values, GoalPatch)
        written = await service.update_goal(user, goal_id, data, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head, iep, goal = await service.goal_for_edit(user, goal_id, request_id=_rid(request))
        return _goal_form(
            request,
            student=head,
            iep=iep,
            goal=goal,
            values=_goal_values(goal),
            error=_message(exc),
        )
    return _to_iep(written)


@post(
    "/teacher/goals/{goal_id:int}/objectives",
    guards=[edit_guard],
    include_in_schema=False,
    opt=READS_FORM,
)
async def add_objective_form(request: Request[Any, Any, Any], goal_id: Id) -> Any:
    user = current_user(request)
    values: dict[str, Any] = {}
    try:
        values = forms.fields(await request.form())
        data = forms.convert(values, ObjectiveIn)
        await service.add_objective(user, goal_id, data, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head, iep, goal = await service.goal_for_edit(user, goal_id, request_id=_rid(request))
        return _goal_form(
            request,
            student=head,
            iep=iep,
            goal=goal,
            values=_goal_values(goal) | {"objective": values.get("description", "")},
            objective_error=_message(exc),
        )
    return Redirect(path=f"/teacher/goals/{goal_id}/edit#objectives")


@post(
    "/teacher/ieps/{iep_id:int}/accommodations",
    guards=[edit_guard],
    include_in_schema=False,
    opt=READS_FORM,
)
async def add_accommodation_form(request: Request[Any, Any, Any], iep_id: Id) -> Any:
    user = current_user(request)
    values: dict[str, Any] = {}
    try:
        values = forms.fields(await request.form())
        data = forms.convert(values, AccommodationIn)
        written = await service.add_accommodation(user, iep_id, data, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head, _ = await service.iep_for_edit(user, iep_id, request_id=_rid(request))
        return await _student_page(
            request,
            head.id,
            iep_id=iep_id,
            error=_message(exc),
            error_form="accommodation",
            values=values,
        )
    return _to_iep(written, "#accommodations")


@post(
    "/teacher/ieps/{iep_id:int}/services",
    guards=[edit_guard],
    include_in_schema=False,
    opt=READS_FORM,
)
async def add_service_form(request: Request[Any, Any, Any], iep_id: Id) -> Any:
    user = current_user(request)
    values: dict[str, Any] = {}
    try:
        values = forms.fields(await request.form())
        data = forms.convert(forms.service_fields(values), ServiceIn)
        written = await service.add_service(user, iep_id, data, request_id=_rid(request))
    except FORM_ERRORS as exc:
        head, _ = await service.iep_for_edit(user, iep_id, request_id=_rid(request))
        return await _student_page(
            request,
            head.id,
            iep_id=iep_id,
            error=_message(exc),
            error_form="service",
            values=values,
        )
    return _to_iep(written, "#services")


STATIC_DIR = Path(__file__).resolve().parent / "static"

ROUTES: list[Any] = [
    api_students,
    api_student,
    api_create_iep,
    api_update_iep,
    api_add_goal,
    api_update_goal,
    api_add_objective,
    api_add_accommodation,
    api_add_service,
    teacher_home,
    student_page,
    new_iep_page,
    create_iep_form,
    edit_iep_page,
    update_iep_form,
    new_goal_page,
    add_goal_form,
    edit_goal_page,
    update_goal_form,
    goal_active_form,
    add_objective_form,
    add_accommodation_form,
    add_service_form,
    create_static_files_router(
        path="/static/iep", directories=[STATIC_DIR], include_in_schema=False
    ),
]
