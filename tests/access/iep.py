"""Access entries for IEPs: the student-record API and the teacher's pages.

Staff (admin, teacher, provider, aide) read the IEPs of students in their scope; only
teachers and admins change them. Parents reach IEP content through /parent, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from tests.access.spec import PAGE_REDIRECT, Ctx, Entry, Req, Scope

STAFF = ("admin", "teacher", "provider", "aide")
EDITORS = ("admin", "teacher")


def _iep_id(c: Ctx, s: Scope) -> int:
    iep_id = c.student(s).iep_id
    assert iep_id is not None
    return iep_id


def _goal_id(c: Ctx, s: Scope) -> int:
    return c.student(s).goals["trials"]


def _dates() -> dict[str, str]:
    today = date.today()
    return {"start_date": today.isoformat(), "end_date": (today + timedelta(days=364)).isoformat()}


GOAL = {"area": "Reading", "description": "Reads ten sight words", "measurement": "trials"}
TRIALS_GOAL_FORM = {
    "area": "Communication",
    "description": "Requests a break using a picture card",
    "measurement": "trials",
}


def _service(c: Ctx, s: Scope, *, form: bool) -> Req:
    url = f"/{'teacher' if form else 'api'}/ieps/{_iep_id(c, s)}/services"
    body = {
        "service_type": "Occupational therapy",
        "minutes": 30,
        "period": "week",
        "provider_id": c.classroom.provider.id,
    }
    if form:
        return Req(url, data={k: str(v) for k, v in body.items()})
    return Req(url, json=body)


API = [
    Entry("GET", "/api/students", lambda c, s: Req("/api/students"), roles=STAFF, scoped=False),
    Entry(
        "GET",
        "/api/students/{student_id:int}",
        lambda c, s: Req(f"/api/students/{c.student(s).id}"),
        roles=STAFF,
    ),
    Entry(
        "POST",
        "/api/students/{student_id:int}/ieps",
        lambda c, s: Req(f"/api/students/{c.student(s).id}/ieps", json=_dates()),
        roles=EDITORS,
        ok=201,
    ),
    Entry(
        "PATCH",
        "/api/ieps/{iep_id:int}",
        lambda c, s: Req(f"/api/ieps/{_iep_id(c, s)}", json={"status": "active"}),
        roles=EDITORS,
    ),
    Entry(
        "POST",
        "/api/ieps/{iep_id:int}/goals",
        lambda c, s: Req(f"/api/ieps/{_iep_id(c, s)}/goals", json=GOAL),
        roles=EDITORS,
        ok=201,
    ),
    Entry(
        "PATCH",
        "/api/goals/{goal_id:int}",
        lambda c, s: Req(f"/api/goals/{_goal_id(c, s)}", json={"baseline": "3/10"}),
        roles=EDITORS,
    ),
    Entry(
        "POST",
        "/api/goals/{goal_id:int}/objectives",
        lambda c, s: Req(
            f"/api/goals/{_goal_id(c, s)}/objectives", json={"description": "With a visual cue"}
        ),
        roles=EDITORS,
        ok=201,
    ),
    Entry(
        "POST",
        "/api/ieps/{iep_id:int}/accommodations",
        lambda c, s: Req(
            f"/api/ieps/{_iep_id(c, s)}/accommodations", json={"description": "Extended time"}
        ),
        roles=EDITORS,
        ok=201,
    ),
    Entry(
        "POST",
        "/api/ieps/{iep_id:int}/services",
        lambda c, s: _service(c, s, form=False),
        roles=EDITORS,
        ok=201,
    ),
]


def _page(
    method: str,
    path: str,
    build: Callable[[Ctx, Scope], Req],
    roles: tuple[str, ...],
    *,
    scoped: bool = True,
) -> Entry:
    """A browser page: anonymous callers are sent to log in; a form POST redirects."""
    return Entry(
        method,
        path,
        build,
        roles=roles,
        ok=PAGE_REDIRECT if method == "POST" else 200,
        anonymous=PAGE_REDIRECT,
        html=True,
        scoped=scoped,
    )


PAGES = [
    _page("GET", "/teacher", lambda c, s: Req("/teacher"), STAFF, scoped=False),
    _page(
        "GET",
        "/teacher/students/{student_id:int}",
        lambda c, s: Req(f"/teacher/students/{c.student(s).id}"),
        STAFF,
    ),
    _page(
        "GET",
        "/teacher/students/{student_id:int}/iep/new",
        lambda c, s: Req(f"/teacher/students/{c.student(s).id}/iep/new"),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/students/{student_id:int}/iep",
        lambda c, s: Req(
            f"/teacher/students/{c.student(s).id}/iep", data={**_dates(), "status": "draft"}
        ),
        EDITORS,
    ),
    _page(
        "GET",
        "/teacher/ieps/{iep_id:int}/edit",
        lambda c, s: Req(f"/teacher/ieps/{_iep_id(c, s)}/edit"),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/ieps/{iep_id:int}",
        lambda c, s: Req(f"/teacher/ieps/{_iep_id(c, s)}", data={"status": "active"}),
        EDITORS,
    ),
    _page(
        "GET",
        "/teacher/ieps/{iep_id:int}/goals/new",
        lambda c, s: Req(f"/teacher/ieps/{_iep_id(c, s)}/goals/new"),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/ieps/{iep_id:int}/goals",
        lambda c, s: Req(f"/teacher/ieps/{_iep_id(c, s)}/goals", data=GOAL),
        EDITORS,
    ),
    _page(
        "GET",
        "/teacher/goals/{goal_id:int}/edit",
        lambda c, s: Req(f"/teacher/goals/{_goal_id(c, s)}/edit"),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/goals/{goal_id:int}",
        lambda c, s: Req(f"/teacher/goals/{_goal_id(c, s)}", data=TRIALS_GOAL_FORM),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/goals/{goal_id:int}/active",
        lambda c, s: Req(f"/teacher/goals/{_goal_id(c, s)}/active", data={"active": "true"}),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/goals/{goal_id:int}/objectives",
        lambda c, s: Req(
            f"/teacher/goals/{_goal_id(c, s)}/objectives", data={"description": "Within 5 s"}
        ),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/ieps/{iep_id:int}/accommodations",
        lambda c, s: Req(
            f"/teacher/ieps/{_iep_id(c, s)}/accommodations", data={"description": "Quiet room"}
        ),
        EDITORS,
    ),
    _page(
        "POST",
        "/teacher/ieps/{iep_id:int}/services",
        lambda c, s: _service(c, s, form=True),
        EDITORS,
    ),
]

ENTRIES = [*API, *PAGES]
