"""Access entries for login, logout, the current user and device revocation."""

from __future__ import annotations

import os
import uuid

from tests.access.spec import ALL_ROLES, PAGE_REDIRECT, Ctx, Entry, Req, Scope


def _wrong_login(form: bool) -> Req:
    # A fresh unknown email each time, so the per-account limit never trips here.
    creds = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.test", "password": "x"}
    return Req("/login", data=creds) if form else Req("/api/auth/login", json=creds)


def _device(ctx: Ctx, scope: Scope) -> Req:
    # A fresh device of the classroom's aide (in scope for the admin of that school).
    from tests.support.factories import Factory

    owner = ctx.classroom.aide if scope != "out" else Factory(ctx.sql).user("aide")
    device_id = ctx.factory.one(
        "INSERT INTO device (school_id, user_id, token_hash) VALUES (%s, %s, %s) RETURNING id",
        owner.school_id,
        owner.id,
        os.urandom(32),
    )
    return Req(f"/api/admin/devices/{device_id}/revoke")


def _parent_invite(ctx: Ctx, scope: Scope) -> Req:
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.test"
    body = {"email": email, "role": "parent", "student_id": ctx.student(scope).id}
    return Req("/api/invites", json=body)


def _reset_link(ctx: Ctx, scope: Scope) -> Req:
    # A fresh parent of the student in (or out of) the caller's scope.
    from tests.support.factories import Factory

    student = ctx.student(scope)
    f = Factory(ctx.sql, school_id=student.school_id)
    parent = f.user("parent")
    f.guardian(parent, student)
    return Req("/api/reset-links", json={"user_id": parent.id})


def _family_invite(ctx: Ctx, scope: Scope) -> Req:
    email = f"family-{uuid.uuid4().hex[:8]}@example.test"
    return Req("/families/invite", data={"email": email, "student_id": str(ctx.student(scope).id)})


def _family_reset(ctx: Ctx, scope: Scope) -> Req:
    user_id = _reset_link(ctx, scope).json["user_id"]
    return Req(f"/families/{user_id}/reset-link", data={"_csrf_token": "form"})


def _account_link(ctx: Ctx, kind: str, *, used: bool) -> str:
    """A link row with a known token (used links answer 410 and change nothing, so the
    matrix's shared clients keep their sessions)."""
    import hashlib

    token = uuid.uuid4().hex
    ctx.factory.one(
        """INSERT INTO account_link (school_id, kind, token_hash, email, role, user_id,
                                     created_by, expires_at, used_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, now() + interval '1 day',
                   CASE WHEN %s THEN now() END) RETURNING id""",
        ctx.classroom.admin.school_id,
        kind,
        hashlib.sha256(token.encode()).digest(),
        f"link-{token[:8]}@example.test",
        "aide",
        ctx.classroom.aide.id if kind == "reset" else None,
        ctx.classroom.admin.id,
        used,
    )
    path = "invite" if kind == "invite" else "reset"
    return f"/{path}/{token}"


ENTRIES = [
    Entry("GET", "/login", lambda c, s: Req("/login"), scoped=False, anonymous=200, html=True),
    Entry(
        "POST",
        "/login",
        lambda c, s: _wrong_login(form=True),
        scoped=False,
        anonymous=401,
        ok=401,
        html=True,
    ),
    Entry(
        "POST",
        "/api/auth/login",
        lambda c, s: _wrong_login(form=False),
        scoped=False,
        ok=401,
    ),
    Entry(
        "POST",
        "/logout",
        lambda c, s: Req("/logout"),
        scoped=False,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry(
        "POST",
        "/api/auth/logout",
        lambda c, s: Req("/api/auth/logout"),
        scoped=False,
        anonymous=200,
    ),
    Entry("GET", "/api/me", lambda c, s: Req("/api/me"), scoped=False),
    Entry(
        "POST",
        "/api/admin/devices/{device_id:int}/revoke",
        _device,
        roles=("admin",),
        ok=201,
    ),
    Entry(
        "GET",
        "/",
        lambda c, s: Req("/"),
        scoped=False,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry("GET", "/healthz", lambda c, s: Req("/healthz"), scoped=False, anonymous=200),
    # The person's own account: every role, about nobody else.
    Entry(
        "GET",
        "/account",
        lambda c, s: Req("/account"),
        scoped=False,
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry(
        "POST",
        "/account/notices/seen",
        lambda c, s: Req("/account/notices/seen", data={"_csrf_token": "form"}),
        scoped=False,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry("GET", "/api/account/notices", lambda c, s: Req("/api/account/notices"), scoped=False),
    Entry(
        "POST",
        "/account/settings",
        lambda c, s: Req(
            "/account/settings",
            data={"_csrf_token": "form", "language": "en", "timezone": "America/Chicago"},
        ),
        scoped=False,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry("POST", "/api/invites", _parent_invite, roles=("admin", "teacher"), ok=201),
    Entry("POST", "/api/reset-links", _reset_link, roles=("admin", "teacher"), ok=201),
    Entry(
        "GET",
        "/families",
        lambda c, s: Req("/families"),
        roles=("admin", "teacher"),
        scoped=False,
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry(
        "POST",
        "/families/invite",
        _family_invite,
        roles=("admin", "teacher"),
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry(
        "POST",
        "/families/{user_id:int}/reset-link",
        _family_reset,
        roles=("admin", "teacher"),
        anonymous=PAGE_REDIRECT,
        html=True,
    ),
    Entry(
        "GET",
        "/invite/{token:str}",
        lambda c, s: Req(_account_link(c, "invite", used=False)),
        scoped=False,
        anonymous=200,
        html=True,
    ),
    Entry(
        "POST",
        "/invite/{token:str}",
        lambda c, s: Req(
            _account_link(c, "invite", used=True), data={"password": "a long passphrase"}
        ),
        scoped=False,
        anonymous=410,
        ok=410,
        html=True,
    ),
    Entry(
        "GET",
        "/reset/{token:str}",
        lambda c, s: Req(_account_link(c, "reset", used=False)),
        scoped=False,
        anonymous=200,
        html=True,
    ),
    Entry(
        "POST",
        "/reset/{token:str}",
        lambda c, s: Req(
            _account_link(c, "reset", used=True), data={"password": "a long passphrase"}
        ),
        scoped=False,
        anonymous=410,
        ok=410,
        html=True,
    ),
]

__all__ = ["ALL_ROLES", "ENTRIES"]
