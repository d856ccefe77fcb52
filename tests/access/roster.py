"""Access entries for the admin's roster: the JSON API under /api/admin and the /admin
pages. Admin only; another school's ids are 404. Requests that change something work
on fresh rows, never on the shared classroom's people and links."""

from __future__ import annotations

import os
import uuid

from tests.access.spec import PAGE_REDIRECT, Ctx, Entry, Req, Scope
from tests.support.factories import Factory

ADMIN = ("admin",)
FORM = {"_csrf_token": "form"}


def _school_factory(ctx: Ctx, scope: Scope) -> Factory:
    """The classroom's school in scope; another school out of scope."""
    if scope == "out":
        return Factory(ctx.sql)
    return Factory(ctx.sql, school_id=ctx.classroom.student.school_id)


def _fresh_user(ctx: Ctx, scope: Scope, role: str = "aide") -> int:
    return _school_factory(ctx, scope).user(role).id


def _fresh_link(ctx: Ctx, scope: Scope, kind: str) -> int:
    f = _school_factory(ctx, scope)
    student = f.student("Link", with_iep=False)
    if kind == "guardianship":
        return f.guardian(f.user("parent"), student)
    if kind == "caseload":
        return f.caseload(f.user("teacher"), student)
    return f.assign(f.user("aide"), student)


def _fresh_service(ctx: Ctx, scope: Scope) -> int:
    """A service naming a provider, on a fresh student's IEP."""
    f = _school_factory(ctx, scope)
    return f.service(f.student("Served"), f.user("provider"))


def _fresh_account_link(ctx: Ctx, scope: Scope) -> int:
    f = _school_factory(ctx, scope)
    creator = f.user("admin")
    return int(
        f.one(
            """INSERT INTO account_link (school_id, kind, token_hash, email, role, created_by,
                                         expires_at)
               VALUES (%s, 'invite', %s, %s, 'aide', %s, now() + interval '1 day')
               RETURNING id""",
            f.school_id,
            os.urandom(32),
            f"cancel-{uuid.uuid4().hex[:8]}@example.test",
            creator.id,
        )
    )


def _fresh_device(ctx: Ctx, scope: Scope) -> int:
    f = _school_factory(ctx, scope)
    owner = f.user("aide")
    return int(
        f.one(
            "INSERT INTO device (school_id, user_id, token_hash) VALUES (%s, %s, %s) RETURNING id",
            f.school_id,
            owner.id,
            os.urandom(32),
        )
    )


def _new_link_body(ctx: Ctx, scope: Scope) -> dict[str, object]:
    aide = Factory(ctx.sql, school_id=ctx.classroom.student.school_id).user("aide")
    return {"kind": "assignment", "user_id": aide.id, "student_id": ctx.student(scope).id}


def _student_form() -> dict[str, str]:
    return {**FORM, "first_name": "Ines", "last_name": f"Okafor{uuid.uuid4().hex[:4]}"}


def _invite_form() -> dict[str, str]:
    return {**FORM, "email": f"new-{uuid.uuid4().hex[:8]}@example.test", "role": "aide"}


def api(method: str, path: str, build: object, **kw: object) -> Entry:
    return Entry(method, path, build, roles=ADMIN, **kw)  # type: ignore[arg-type]


def page(method: str, path: str, build: object, **kw: object) -> Entry:
    kw.setdefault("anonymous", PAGE_REDIRECT)
    return Entry(method, path, build, roles=ADMIN, html=True, **kw)  # type: ignore[arg-type]


ENTRIES = [
    # JSON API
    api("GET", "/api/admin/users", lambda c, s: Req("/api/admin/users"), scoped=False),
    api(
        "POST",
        "/api/admin/users/{user_id:int}/role",
        lambda c, s: Req(f"/api/admin/users/{_fresh_user(c, s)}/role", json={"role": "teacher"}),
    ),
    api(
        "POST",
        "/api/admin/users/{user_id:int}/deactivate",
        lambda c, s: Req(f"/api/admin/users/{_fresh_user(c, s)}/deactivate"),
    ),
    api(
        "POST",
        "/api/admin/users/{user_id:int}/reactivate",
        lambda c, s: Req(f"/api/admin/users/{_fresh_user(c, s)}/reactivate"),
    ),
    api("GET", "/api/admin/students", lambda c, s: Req("/api/admin/students"), scoped=False),
    api(
        "POST",
        "/api/admin/students",
        lambda c, s: Req("/api/admin/students", json={"first_name": "Ines", "last_name": "Ok"}),
        scoped=False,
        ok=201,
    ),
    api(
        "GET",
        "/api/admin/students/{student_id:int}/links",
        lambda c, s: Req(f"/api/admin/students/{c.student(s).id}/links"),
    ),
    api(
        "POST",
        "/api/admin/links",
        lambda c, s: Req("/api/admin/links", json=_new_link_body(c, s)),
        ok=201,
    ),
    api(
        "POST",
        "/api/admin/links/{kind:str}/{link_id:int}/end",
        lambda c, s: Req(f"/api/admin/links/assignment/{_fresh_link(c, s, 'assignment')}/end"),
    ),
    api(
        "POST",
        "/api/admin/guardianships/{link_id:int}/revoke",
        lambda c, s: Req(
            f"/api/admin/guardianships/{_fresh_link(c, s, 'guardianship')}/revoke",
            json={"reason": "Court order"},
        ),
    ),
    api(
        "POST",
        "/api/admin/services/{service_id:int}/provider/end",
        lambda c, s: Req(f"/api/admin/services/{_fresh_service(c, s)}/provider/end"),
    ),
    api("GET", "/api/admin/invitations", lambda c, s: Req("/api/admin/invitations"), scoped=False),
    api(
        "POST",
        "/api/admin/invitations/{link_id:int}/cancel",
        lambda c, s: Req(f"/api/admin/invitations/{_fresh_account_link(c, s)}/cancel"),
    ),
    api("GET", "/api/admin/devices", lambda c, s: Req("/api/admin/devices"), scoped=False),
    # Pages
    page("GET", "/admin", lambda c, s: Req("/admin"), scoped=False),
    page("GET", "/admin/people", lambda c, s: Req("/admin/people"), scoped=False),
    page(
        "POST",
        "/admin/people/{user_id:int}/role",
        lambda c, s: Req(
            f"/admin/people/{_fresh_user(c, s)}/role", data={**FORM, "role": "teacher"}
        ),
        ok=303,
    ),
    page(
        "POST",
        "/admin/people/{user_id:int}/deactivate",
        lambda c, s: Req(f"/admin/people/{_fresh_user(c, s)}/deactivate", data=FORM),
        ok=303,
    ),
    page(
        "POST",
        "/admin/people/{user_id:int}/reactivate",
        lambda c, s: Req(f"/admin/people/{_fresh_user(c, s)}/reactivate", data=FORM),
        ok=303,
    ),
    page(
        "POST",
        "/admin/people/{user_id:int}/reset-link",
        lambda c, s: Req(f"/admin/people/{_fresh_user(c, s)}/reset-link", data=FORM),
    ),
    page("GET", "/admin/invitations", lambda c, s: Req("/admin/invitations"), scoped=False),
    page(
        "POST",
        "/admin/invitations",
        lambda c, s: Req("/admin/invitations", data=_invite_form()),
        scoped=False,
    ),
    page(
        "POST",
        "/admin/invitations/{link_id:int}/cancel",
        lambda c, s: Req(f"/admin/invitations/{_fresh_account_link(c, s)}/cancel", data=FORM),
        ok=303,
    ),
    page("GET", "/admin/students", lambda c, s: Req("/admin/students"), scoped=False),
    page(
        "POST",
        "/admin/students",
        lambda c, s: Req("/admin/students", data=_student_form()),
        scoped=False,
        ok=303,
    ),
    page(
        "GET",
        "/admin/students/{student_id:int}",
        lambda c, s: Req(f"/admin/students/{c.student(s).id}"),
    ),
    page(
        "POST",
        "/admin/students/{student_id:int}/links",
        lambda c, s: Req(
            f"/admin/students/{c.student(s).id}/links",
            data={
                **FORM,
                "kind": "assignment",
                "user_id": str(_fresh_user(c, "in")),
            },
        ),
        ok=303,
    ),
    page(
        "POST",
        "/admin/links/{kind:str}/{link_id:int}/end",
        lambda c, s: Req(f"/admin/links/caseload/{_fresh_link(c, s, 'caseload')}/end", data=FORM),
        ok=303,
    ),
    page(
        "POST",
        "/admin/guardianships/{link_id:int}/revoke",
        lambda c, s: Req(
            f"/admin/guardianships/{_fresh_link(c, s, 'guardianship')}/revoke",
            data={**FORM, "reason": "Court order 2026-114"},
        ),
        ok=303,
    ),
    page(
        "POST",
        "/admin/services/{service_id:int}/provider/end",
        lambda c, s: Req(f"/admin/services/{_fresh_service(c, s)}/provider/end", data=FORM),
        ok=303,
    ),
    page("GET", "/admin/devices", lambda c, s: Req("/admin/devices"), scoped=False),
    page(
        "POST",
        "/admin/devices/{device_id:int}/revoke",
        lambda c, s: Req(f"/admin/devices/{_fresh_device(c, s)}/revoke", data=FORM),
        ok=303,
    ),
]
