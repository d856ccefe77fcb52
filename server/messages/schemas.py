"""Message and draft shapes: op data (sync) and what the pull sends back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from server.validation import Id, MessageBody

DraftBody = Annotated[str, Meta(max_length=8000)]
Version = Annotated[int, Meta(ge=0, le=2**31 - 1)]


class DraftSave(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    thread_id: Id
    body: DraftBody
    base_version: Version


class MessageSend(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    thread_id: Id
    body: MessageBody


class DraftResult(msgspec.Struct, frozen=True, kw_only=True):
    thread_id: int
    version: int
    conflict: bool


class ThreadOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    student_id: int
    subject: str


class MessageOut(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    thread_id: int
    student_id: int
    author_id: int
    author_name: str
    body: str
    sent_at: datetime


class DraftOut(msgspec.Struct, frozen=True, kw_only=True):
    thread_id: int
    body: str
    version: int
    conflict_body: str | None
    updated_at: datetime
