"""Message pages and APIs: staff pages (/messages, server-rendered, online), the parent's
thread pages (/parent/messages; the offline version lives in the PWA at /app/messages),
and read receipts (posted by a page once it is in view, never recorded by a GET).
Sending goes through messages.service.send_message, which queues the other side's
notifications in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Meta

from server import db
from server.audit import service as audit
from server.auth import scope
from server.auth import service as auth_service
from server.auth.guards import STAFF, current_user, role_in
from server.messages import queries
from server.messages.service import MessageRefused, ensure_student_thread, send_message
from server.roster.service import staff_clock
from server.validation import Id, MessageBody

STAFF_ONLY = [role_in(*STAFF)]
PARENTS = [role_in("parent")]
ANYONE = [role_in(*STAFF, "parent")]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


class SendForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    body: MessageBody
    # The note this reply answers (the parent came from it): sending returns there.
    note: Annotated[str, Meta(max_length=12, pattern=r"^[0-9]*$")] = ""
    csrf_token: Annotated[str, Meta(max_length=200)] = msgspec.field(default="", name="_csrf_token")


class CsrfForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    csrf_token: Annotated[str, Meta(max_length=200)] = msgspec.field(default="", name="_csrf_token")


class ReadReceipt(msgspec.Struct, frozen=True, kw_only=True):
    message_id: uuid.UUID
    read: bool


class MessageReceipt(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    read_by: list[str]
    unread_by: list[str]


def _rid(request: Request[Any, Any, Any]) -> str | None:
    value = (request.scope.get("state") or {}).get("request_id")
    return str(value) if value else None


async def _send(request: Request[Any, Any, Any], thread_id: int, body: str) -> None:
    user = current_user(request)
    async with db.transaction() as conn:
        await queries.thread(conn, user, thread_id, request_id=_rid(request))
        try:
            await send_message(
                conn,
                user=user,
                message_id=uuid.uuid4(),
                thread_id=thread_id,
                body=body,
                sent_at=datetime.now(UTC),
                request_id=_rid(request),
            )
        except MessageRefused:
            raise NotFoundException(queries.THREAD_NOT_FOUND) from None


# -- staff ----------------------------------------------------------------------------


@get("/messages", guards=STAFF_ONLY, include_in_schema=False)
async def staff_threads(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    async with db.connection() as conn:
        threads = await queries.threads(conn, user)
        students = await queries.students_without_thread(conn, user)
        await audit.students_listed(
            user,
            [t["student_id"] for t in threads] + [s["id"] for s in students],
            page="/messages",
            request_id=_rid(request),
            conn=conn,
        )
    return Template(
        template_name="messages/threads.html.j2",
        context={
            "me": user,
            "clock": await staff_clock(user),
            "threads": threads,
            "students": students,
        },
    )


@get("/messages/{thread_id:int}", guards=STAFF_ONLY, include_in_schema=False)
async def staff_thread(request: Request[Any, Any, Any], thread_id: Id) -> Template:
    user = current_user(request)
    async with db.transaction() as conn:
        thread = await queries.thread(conn, user, thread_id, request_id=_rid(request))
        messages = await queries.messages(conn, user, thread_id)
        unread = {r["id"]: r["unread_by"] for r in await queries.receipts(conn, thread)}
    for m in messages:
        m["unread_by"] = unread.get(m["id"], [])
    return Template(
        template_name="messages/thread.html.j2",
        context={
            "me": user,
            "clock": await staff_clock(user),
            "thread": thread,
            "messages": messages,
        },
    )


@post("/messages/{thread_id:int}", guards=STAFF_ONLY, include_in_schema=False)
async def staff_send(
    request: Request[Any, Any, Any], thread_id: Id, data: Annotated[SendForm, FORM]
) -> Redirect:
    await _send(request, thread_id, data.body)
    return Redirect(path=f"/messages/{thread_id}")


@post("/messages/students/{student_id:int}", guards=STAFF_ONLY, include_in_schema=False)
async def staff_open_thread(
    request: Request[Any, Any, Any], student_id: Id, data: Annotated[CsrfForm, FORM]
) -> Redirect:
    """The student's conversation, created on first need."""
    user = current_user(request)
    await scope.require_student(
        user, student_id, record_type="message_thread", request_id=_rid(request)
    )
    async with db.transaction() as conn:
        thread_id = await ensure_student_thread(conn, user.school_id, student_id, user.id)
    return Redirect(path=f"/messages/{thread_id}")


# -- parents --------------------------------------------------------------------------


async def _parent_context(request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    user = current_user(request)
    return {"me": user, **(await auth_service.reader(user.id)), **extra}


@get("/parent/messages", guards=PARENTS, include_in_schema=False)
async def parent_threads(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    async with db.connection() as conn:
        threads = await queries.threads(conn, user)
        await audit.students_listed(
            user,
            [t["student_id"] for t in threads],
            page="/parent/messages",
            request_id=_rid(request),
            conn=conn,
        )
    return Template(
        template_name="parent/messages.html.j2",
        context=await _parent_context(request, threads=threads),
    )


@get("/parent/messages/{thread_id:int}", guards=PARENTS, include_in_schema=False)
async def parent_thread(request: Request[Any, Any, Any], thread_id: Id) -> Template:
    user = current_user(request)
    async with db.transaction() as conn:
        thread = await queries.thread(conn, user, thread_id, request_id=_rid(request))
        messages = await queries.messages(conn, user, thread_id)
    note = request.query_params.get("note", "")
    return Template(
        template_name="parent/thread.html.j2",
        context=await _parent_context(
            request,
            thread=thread,
            messages=messages,
            # Came from a note's "Write a reply": the way back, and where sending returns.
            from_note=int(note) if note.isdigit() and len(note) <= 12 else None,
        ),
    )


@post("/parent/messages/{thread_id:int}", guards=PARENTS, include_in_schema=False)
async def parent_send(
    request: Request[Any, Any, Any], thread_id: Id, data: Annotated[SendForm, FORM]
) -> Redirect:
    await _send(request, thread_id, data.body)
    if data.note:
        return Redirect(path=f"/parent/notes/{int(data.note)}?replied=1")
    return Redirect(path=f"/parent/messages/{thread_id}")


# -- API: read receipts ---------------------------------------------------------------


@post("/api/messages/{message_id:uuid}/read", guards=ANYONE, tags=["messages"], status_code=200)
async def mark_read(request: Request[Any, Any, Any], message_id: uuid.UUID) -> ReadReceipt:
    """The PWA reports that the user has seen a message (idempotent)."""
    user = current_user(request)
    async with db.connection() as conn:
        if not await queries.mark_message_read(conn, user, message_id, request_id=_rid(request)):
            raise NotFoundException("No such message, or you do not have access to it.")
    return ReadReceipt(message_id=message_id, read=True)


class ThreadRead(msgspec.Struct, frozen=True, kw_only=True):
    thread_id: int
    marked: int


@post(
    "/api/messages/threads/{thread_id:int}/read",
    guards=ANYONE,
    tags=["messages"],
    status_code=200,
)
async def mark_thread_read(request: Request[Any, Any, Any], thread_id: Id) -> ThreadRead:
    """The thread's page reports that the user has it in view: every message in it by
    someone else is read (idempotent). Opening the page (a GET) records nothing."""
    user = current_user(request)
    async with db.connection() as conn:
        marked = await queries.mark_thread_read(conn, user, thread_id, request_id=_rid(request))
    return ThreadRead(thread_id=thread_id, marked=marked)


@get("/api/messages/threads/{thread_id:int}/receipts", guards=STAFF_ONLY, tags=["messages"])
async def thread_receipts(request: Request[Any, Any, Any], thread_id: Id) -> list[MessageReceipt]:
    """Who has read each message, and which current guardians have not."""
    user = current_user(request)
    async with db.connection() as conn:
        thread = await queries.thread(conn, user, thread_id, request_id=_rid(request))
        messages = await queries.messages(conn, user, thread_id)
        unread = {r["id"]: r["unread_by"] for r in await queries.receipts(conn, thread)}
    return [
        MessageReceipt(id=m["id"], read_by=list(m["read_by"]), unread_by=unread.get(m["id"], []))
        for m in messages
    ]


ROUTES: list[Any] = [
    staff_threads,
    staff_thread,
    staff_send,
    staff_open_thread,
    parent_threads,
    parent_thread,
    parent_send,
    mark_read,
    mark_thread_read,
    thread_receipts,
]
