"""Login and account schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from server.validation import Email, Id, Role

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
    # Something happened to the account (a password link made, the password changed)
    # that the holder has not seen yet: the app shows it (GET /api/account/notices).
    notice_pending: bool = False


class AccountNoticeOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    at: datetime
    text: str
    seen: bool


# Invitations and resets
Relationship = Annotated[str, Meta(min_length=1, max_length=40)]
OptionalName = Annotated[str, Meta(max_length=200)]
CsrfField = Annotated[str, Meta(max_length=200)]


class InviteIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    email: Email
    role: Role
    name: OptionalName = ""
    student_id: Id | None = None
    # A parent invitation's relationship to the student ("mother", "grandfather").
    relationship: Relationship | None = None


class ResetLinkIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    user_id: Id


class AcceptInviteForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    password: LoginPassword
    name: OptionalName = ""
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class ResetPasswordForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    password: LoginPassword
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class FamilyInviteForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    email: Email
    student_id: Id
    name: OptionalName = ""
    relationship: Relationship = "guardian"
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")


class CsrfOnlyForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    csrf_token: CsrfField = msgspec.field(default="", name="_csrf_token")
