"""The parent's pages (/parent), in the parent's language: their children, progress
notes (the page, once in view, posts the read receipt), approved data only, and
notification settings."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.params import Body
from litestar.response import Redirect, Template

from server import db, i18n
from server.audit import service as audit
from server.auth import scope
from server.auth import service as auth_service
from server.auth.guards import current_user, role_in
from server.notify import service as notify
from server.progress import service
from server.progress.compose import goal_words
from server.progress.schemas import SettingsForm
from server.progress.texts import describe_goal
from server.validation import Id

PARENTS = [role_in("parent")]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _rid(request: Request[Any, Any, Any]) -> str | None:
    value = (request.scope.get("state") or {}).get("request_id")
    return str(value) if value else None


async def _context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    user = current_user(request)
    return {"me": user, **(await auth_service.reader(user.id)), **extra}


async def _children(user_id: int, school_id: int) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT s.id, s.first_name FROM student s
                WHERE s.school_id = $2
                  AND s.id IN (SELECT student_id FROM tandem_student_scope($1, $2, 'parent', now()))
                ORDER BY s.first_name""",
            user_id,
            school_id,
        )
    return [dict(r) for r in rows]


@get("/parent", guards=PARENTS, include_in_schema=False)
async def parent_home(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    children = await _children(user.id, user.school_id)
    notes = await service.notes_for_parent(user)
    await audit.students_listed(
        user,
        [c["id"] for c in children] + [n["student_id"] for n in notes],
        page="/parent",
        request_id=_rid(request),
    )
    context = await _context(request, children=children, notes=notes)
    return Template(template_name="parent/home.html.j2", context=context)


@get("/parent/notes/{note_id:int}", guards=PARENTS, include_in_schema=False)
async def parent_note(request: Request[Any, Any, Any], note_id: Id) -> Template:
    user = current_user(request)
    student_id = await service.note_student(
        user, note_id, attempted="read", request_id=_rid(request)
    )
    await scope.require_student(
        user, student_id, record_type="progress_note", request_id=_rid(request)
    )
    note = await service.read_note(user, note_id)
    context = await _context(request, note=note)
    # The words the teacher approved, in this reader's language (progress/compose.py).
    context["text"] = note["texts"][context["lang"]]
    context["replied"] = request.query_params.get("replied") == "1"
    return Template(template_name="parent/note.html.j2", context=context)


class NoteRead(msgspec.Struct, frozen=True, kw_only=True):
    note_id: int
    read: bool


@post(
    "/api/progress-notes/{note_id:int}/read",
    guards=PARENTS,
    tags=["progress"],
    status_code=200,
)
async def mark_note_read(request: Request[Any, Any, Any], note_id: Id) -> NoteRead:
    """The note's page reports that the parent has it in view (idempotent)."""
    user = current_user(request)
    student_id = await service.note_student(
        user, note_id, attempted="mark_read", request_id=_rid(request)
    )
    await scope.require_student(
        user,
        student_id,
        action="mark_read",
        record_type="progress_note",
        request_id=_rid(request),
    )
    await service.record_read(user, note_id)
    return NoteRead(note_id=note_id, read=True)


@get("/parent/students/{student_id:int}", guards=PARENTS, include_in_schema=False)
async def parent_student(request: Request[Any, Any, Any], student_id: Id) -> Template:
    user = current_user(request)
    student = await scope.require_student(
        user, student_id, record_type="approved_data", request_id=_rid(request)
    )
    context = await _context(request, student=student)
    language = context["lang"]
    sessions = await service.approved_data(student_id)
    for s in sessions:
        s["goals"] = []
        for g in s["summary"].get("goals", []):
            name, description, _ = goal_words(g, language)
            s["goals"].append(
                {**g, "area": name, "description": description, "lines": describe_goal(g, language)}
            )
    context["sessions"] = sessions
    return Template(template_name="parent/student.html.j2", context=context)


@get("/parent/settings", guards=PARENTS, include_in_schema=False)
async def parent_settings(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    prefs = await notify.preferences(user)
    context = await _context(
        request,
        prefs=prefs,
        saved=request.query_params.get("done") == "saved",
        subscriptions=await notify.subscription_count(user),
    )
    context["timezones"] = i18n.zone_choices(context["lang"], str(prefs["timezone"]))
    return Template(template_name="parent/settings.html.j2", context=context)


def _clock(value: str) -> time | None:
    if not value:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@post("/parent/settings", guards=PARENTS, include_in_schema=False)
async def save_parent_settings(
    request: Request[Any, Any, Any], data: Annotated[SettingsForm, FORM]
) -> Redirect:
    start, end = _clock(data.quiet_start), _clock(data.quiet_end)
    if (start is None) != (end is None):
        raise ClientException("Give both the start and the end of the quiet hours, or neither.")
    await notify.save_preferences(
        current_user(request),
        notify_mode=data.notify_mode,
        quiet_start=start,
        quiet_end=end,
        language=data.language,
        timezone=notify.check_timezone(data.timezone),
    )
    return Redirect(path="/parent/settings?done=saved")


ROUTES: list[Any] = [
    parent_home,
    parent_note,
    mark_note_read,
    parent_student,
    parent_settings,
    save_parent_settings,
]
