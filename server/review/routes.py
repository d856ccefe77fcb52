"""The teacher's review pages (/teacher/review): the queue, one session with its
history, approve (one or many), reject, correct, decide pending corrections, and the
progress-note composer with read receipts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, HTTPException
from litestar.params import Body
from litestar.response import Redirect, Template

from server.auth import scope
from server.auth.guards import current_user, role_in, role_in_audited
from server.bodies import READS_FORM
from server.collect.derive import OUTCOMES, PROMPTS
from server.iep import service as iep_service
from server.progress import service as progress
from server.progress.texts import lang
from server.review import service
from server.review.schemas import CorrectForm, DecisionForm, GoalTextForm, RejectForm
from server.roster.service import staff_clock
from server.validation import Id

REVIEWER_ROLES = ("admin", "teacher", "provider")
REVIEWERS = [role_in(*REVIEWER_ROLES)]


def _reviewers(attempted: str, record_type: str, id_param: str) -> list[Any]:
    """REVIEWERS for a decision: another role trying it is audited."""
    return [
        role_in_audited(
            *REVIEWER_ROLES, attempted=attempted, record_type=record_type, id_param=id_param
        )
    ]


FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MAX_FORM_IDS = service.MAX_BULK

DONE = {
    "approved": "Approved. Approved sessions are locked.",
    "rejected": "Rejected. The reason is shown to the person who recorded it.",
    "corrected": "Fixed. The original entry is kept in the history.",
    "accepted": "Change accepted.",
    "declined": "Change declined.",
    "none": "Nothing was approved: select sessions that are waiting for review.",
    "published": "Progress note published. The family is notified.",
}


def _rid(request: Request[Any, Any, Any]) -> str | None:
    value = (request.scope.get("state") or {}).get("request_id")
    return str(value) if value else None


def _conflict(exc: Exception) -> HTTPException:
    return HTTPException(status_code=409, detail=str(exc))


async def _session_ids(request: Request[Any, Any, Any]) -> list[UUID]:
    form = await request.form()
    raw = form.getall("session_id") if "session_id" in form else []
    if len(raw) > MAX_FORM_IDS:
        raise ClientException(f"Select at most {MAX_FORM_IDS} sessions at once.")
    ids = []
    for value in raw:
        try:
            ids.append(UUID(str(value)))
        except ValueError:
            raise ClientException("A selected session id is not valid.") from None
    return ids


@get("/teacher/review", guards=REVIEWERS, include_in_schema=False)
async def review_queue(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    data = await service.queue(user, request_id=_rid(request))
    return Template(
        template_name="review/queue.html.j2",
        context={
            "me": user,
            "clock": await staff_clock(user),
            "done": DONE.get(request.query_params.get("done", "")),
            **data,
        },
    )


@get("/teacher/review/sessions/{session_id:uuid}", guards=REVIEWERS, include_in_schema=False)
async def review_session(request: Request[Any, Any, Any], session_id: UUID) -> Template:
    user = current_user(request)
    data = await service.session_detail(user, session_id, request_id=_rid(request))
    return Template(
        template_name="review/session.html.j2",
        context={
            "me": user,
            "clock": await staff_clock(user),
            "done": DONE.get(request.query_params.get("done", "")),
            "outcomes": OUTCOMES,
            "prompts": PROMPTS,
            **data,
        },
    )


@post("/teacher/review/approve", guards=REVIEWERS, include_in_schema=False, opt=READS_FORM)
async def approve_sessions(request: Request[Any, Any, Any]) -> Redirect:
    user = current_user(request)
    ids = await _session_ids(request)
    approved = await service.approve(user, ids, request_id=_rid(request))
    if not approved:
        return Redirect(path="/teacher/review?done=none")
    students = {a["student_id"] for a in approved}
    if len(students) == 1:
        return Redirect(path=f"/teacher/review/students/{students.pop()}/notes?done=approved")
    return Redirect(path="/teacher/review?done=approved")


@post(
    "/teacher/review/sessions/{session_id:uuid}/reject",
    guards=_reviewers("reject", "data_session", "session_id"),
    include_in_schema=False,
)
async def reject_session(
    request: Request[Any, Any, Any],
    session_id: UUID,
    data: Annotated[RejectForm, FORM],
) -> Redirect:
    try:
        await service.reject(
            current_user(request), session_id, data.reason, request_id=_rid(request)
        )
    except service.ReviewConflict as exc:
        raise _conflict(exc) from None
    return Redirect(path="/teacher/review?done=rejected")


def _choice(value: str, allowed: tuple[str, ...], label: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise ClientException(f"Unknown {label}: choose one of {', '.join(allowed)}.")
    return value


def _int(value: str, low: int, high: int, label: str) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ClientException(f"The {label} must be a whole number.") from None
    if not low <= number <= high:
        raise ClientException(f"The {label} must be between {low} and {high}.")
    return number


@post(
    "/teacher/review/entries/{observation_id:int}/correct",
    guards=_reviewers("correct", "observation", "observation_id"),
    include_in_schema=False,
)
async def correct_entry(
    request: Request[Any, Any, Any],
    observation_id: Id,
    data: Annotated[CorrectForm, FORM],
) -> Redirect:
    delta = _int(data.delta, -1, 1, "count change")
    if delta == 0:
        raise ClientException("The count change must be +1 or -1.")
    change = service.Correction(
        reason=data.reason,
        remove=data.remove in ("1", "on", "yes"),
        outcome=_choice(data.outcome, OUTCOMES, "answer"),
        prompt=_choice(data.prompt, PROMPTS, "help level"),
        delta=delta,
        value=_int(data.value, 0, 100, "rating"),
    )
    try:
        session_id = await service.correct(
            current_user(request), observation_id, change, request_id=_rid(request)
        )
    except service.ReviewConflict as exc:
        raise _conflict(exc) from None
    return Redirect(path=f"/teacher/review/sessions/{session_id}?done=corrected")


async def _decide(request: Request[Any, Any, Any], observation_id: int, accept: bool) -> Redirect:
    try:
        await service.decide_proposed(
            current_user(request), observation_id, accept=accept, request_id=_rid(request)
        )
    except service.ReviewConflict as exc:
        raise _conflict(exc) from None
    return Redirect(path=f"/teacher/review?done={'accepted' if accept else 'declined'}")


@post(
    "/teacher/review/entries/{observation_id:int}/accept",
    guards=_reviewers("accept_correction", "observation", "observation_id"),
    include_in_schema=False,
)
async def accept_correction(
    request: Request[Any, Any, Any], observation_id: Id, data: Annotated[DecisionForm, FORM]
) -> Redirect:
    return await _decide(request, observation_id, True)


@post(
    "/teacher/review/entries/{observation_id:int}/decline",
    guards=_reviewers("decline_correction", "observation", "observation_id"),
    include_in_schema=False,
)
async def decline_correction(
    request: Request[Any, Any, Any], observation_id: Id, data: Annotated[DecisionForm, FORM]
) -> Redirect:
    return await _decide(request, observation_id, False)


@get("/teacher/notes", guards=REVIEWERS, include_in_schema=False)
async def notes_overview(request: Request[Any, Any, Any]) -> Template:
    """Progress notes, per student of the caseload: reachable whatever the queue holds."""
    user = current_user(request)
    students = await progress.caseload_notes(user, request_id=_rid(request))
    return Template(
        template_name="review/notes_index.html.j2", context={"me": user, "students": students}
    )


@get("/teacher/review/students/{student_id:int}/notes", guards=REVIEWERS, include_in_schema=False)
async def student_notes(request: Request[Any, Any, Any], student_id: Id) -> Template:
    user = current_user(request)
    student = await scope.require_student(
        user, student_id, record_type="progress_note", request_id=_rid(request)
    )
    preview = await progress.draft(student_id)
    notes = await progress.notes_for_staff(student_id)
    return Template(
        template_name="review/notes.html.j2",
        context={
            "me": user,
            "clock": await staff_clock(user),
            "student": student,
            "done": DONE.get(request.query_params.get("done", "")),
            "preview": preview,
            "readers": preview_readers(preview["guardians"]),
            "notes": notes,
        },
    )


PREVIEW_LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def preview_readers(guardians: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    """(language, its name, the guardians reading it) for each language the note will be
    read in, English first; English alone if no guardian is linked yet: the teacher
    previews exactly what each family will read."""
    by_language: dict[str, list[str]] = {}
    for g in guardians:
        by_language.setdefault(lang(g.get("language")), []).append(str(g["name"]))
    if not by_language:
        by_language["en"] = []
    return [
        (code, PREVIEW_LANGUAGE_NAMES.get(code, code), by_language[code])
        for code in sorted(by_language, key=lambda c: (c != "en", c))
    ]


@post("/teacher/review/goal-texts", guards=REVIEWERS, include_in_schema=False)
async def save_goal_text(
    request: Request[Any, Any, Any], data: Annotated[GoalTextForm, FORM]
) -> Redirect:
    """The composer's form for a goal's words in a family's language; back to the note."""
    student_id = await iep_service.set_parent_text(
        current_user(request),
        data.goal_id,
        language=data.language,
        name=data.name,
        description=data.description,
        request_id=_rid(request),
    )
    return Redirect(path=f"/teacher/review/students/{student_id}/notes")


@post(
    "/teacher/review/students/{student_id:int}/notes",
    guards=_reviewers("disclose", "student", "student_id"),
    include_in_schema=False,
    opt=READS_FORM,
)
async def publish_note(request: Request[Any, Any, Any], student_id: Id) -> Redirect:
    user = current_user(request)
    await scope.require_student(
        user, student_id, action="disclose", record_type="progress_note", request_id=_rid(request)
    )
    form = await request.form()
    comment = str(form.get("comment") or "")
    if len(comment) > 4000:
        raise ClientException("The personal comment may be at most 4000 characters.")
    ids = await _session_ids(request)
    preview_digest = str(form.get("preview_digest") or "")
    if len(preview_digest) > 64:
        raise ClientException("The note's preview fingerprint is not valid.")
    try:
        await progress.publish(
            user,
            student_id,
            session_ids=ids,
            comment=comment.strip(),
            preview_digest=preview_digest,
            request_id=_rid(request),
        )
    except (progress.NoteRefused, progress.NoteChanged) as exc:
        raise _conflict(exc) from None
    return Redirect(path=f"/teacher/review/students/{student_id}/notes?done=published")


ROUTES: list[Any] = [
    review_queue,
    review_session,
    approve_sessions,
    reject_session,
    correct_entry,
    accept_correction,
    decline_correction,
    notes_overview,
    student_notes,
    save_goal_text,
    publish_note,
]
