"""Form bodies of the review pages (URL-encoded; multi-valued session ids are read from
the form directly, see routes._session_ids)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from server.validation import Reason

Csrf = Annotated[str, Meta(max_length=200)]
ShortChoice = Annotated[str, Meta(max_length=20)]
Comment = Annotated[str, Meta(max_length=4000)]


class RejectForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    reason: Reason
    csrf_token: Csrf = msgspec.field(default="", name="_csrf_token")


class CorrectForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    reason: Reason
    remove: ShortChoice = ""
    outcome: ShortChoice = ""
    prompt: ShortChoice = ""
    delta: ShortChoice = ""
    value: ShortChoice = ""
    csrf_token: Csrf = msgspec.field(default="", name="_csrf_token")


class DecisionForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    csrf_token: Csrf = msgspec.field(default="", name="_csrf_token")


class GoalTextForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """What a family reads about a goal in one language (the note composer's form)."""

    goal_id: Annotated[int, Meta(ge=1, le=2**62)]
    language: Literal["es"]
    name: Annotated[str, Meta(min_length=1, max_length=80)]
    description: Annotated[str, Meta(min_length=1, max_length=2000)]
    csrf_token: Csrf = msgspec.field(default="", name="_csrf_token")
