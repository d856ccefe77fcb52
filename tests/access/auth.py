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
]

__all__ = ["ALL_ROLES", "ENTRIES"]
