"""Login and account schemas."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from server.validation import Email

# Login accepts any stored password length; the 8-character minimum applies when setting one.
LoginPassword = Annotated[str, Meta(min_length=1, max_length=1024)]
NextPath = Annotated[str, Meta(max_length=300)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    email: Email
    password: LoginPassword


class LoginForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    email: Email
    password: LoginPassword
    next: NextPath = ""
    csrf_token: str = msgspec.field(default="", name="_csrf_token")


class LoginOut(msgspec.Struct, frozen=True):
    user_id: int
    role: str
    home: str


class Me(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    email: str
    role: str
    school_id: int
    language: str
    timezone: str
    device_id: int | None
    home: str
