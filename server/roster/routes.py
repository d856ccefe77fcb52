"""HTTP routes of the roster domain: the admin's JSON API, and the /admin pages."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException

from server.auth.guards import current_user, role_in
from server.auth.invite_routes import request_id
from server.roster import pages, service
from server.roster.schemas import (
    DeviceRow,
    InvitationRow,
    LinkIn,
    LinkKind,
    RevokeIn,
    RoleIn,
    StudentIn,
    StudentLinks,
    StudentRow,
    UserRow,
)
from server.validation import Id

ADMIN = [role_in("admin")]


def _kind(kind: str) -> str:
    if kind not in service.LINK_KINDS:
        raise NotFoundException("No such kind of link.")
    return kind


@get("/api/admin/users", guards=ADMIN, tags=["admin"])
async def list_users(request: Request[Any, Any, Any]) -> list[UserRow]:
    return await service.list_users(current_user(request))


@post("/api/admin/users/{user_id:int}/role", guards=ADMIN, tags=["admin"], status_code=200)
async def change_role(request: Request[Any, Any, Any], user_id: Id, data: RoleIn) -> dict[str, str]:
    """Change a user's role in this school; every session of theirs ends."""
    await service.set_role(current_user(request), user_id, data.role)
    return {"role": data.role}


@post("/api/admin/users/{user_id:int}/deactivate", guards=ADMIN, tags=["admin"], status_code=200)
async def deactivate_user(request: Request[Any, Any, Any], user_id: Id) -> dict[str, bool]:
    """Deactivate a user: their sessions end and they can no longer log in."""
    await service.set_active(current_user(request), user_id, False, request_id=request_id(request))
    return {"active": False}


@post("/api/admin/users/{user_id:int}/reactivate", guards=ADMIN, tags=["admin"], status_code=200)
async def reactivate_user(request: Request[Any, Any, Any], user_id: Id) -> dict[str, bool]:
    await service.set_active(current_user(request), user_id, True, request_id=request_id(request))
    return {"active": True}


@get("/api/admin/students", guards=ADMIN, tags=["admin"])
async def list_students(request: Request[Any, Any, Any]) -> list[StudentRow]:
    return await service.list_students(
        current_user(request), page="/api/admin/students", request_id=request_id(request)
    )


@post(
    "/api/admin/students",
    guards=ADMIN,
    tags=["admin"],
    opt={"errors": {409: "A student with this external id already exists."}},
)
async def create_student(request: Request[Any, Any, Any], data: StudentIn) -> StudentRow:
    return await service.create_student(
        current_user(request),
        first_name=data.first_name,
        last_name=data.last_name,
        grade=data.grade,
        date_of_birth=data.date_of_birth,
        external_id=data.external_id,
        request_id=request_id(request),
    )


@get("/api/admin/students/{student_id:int}/links", guards=ADMIN, tags=["admin"])
async def student_links(request: Request[Any, Any, Any], student_id: Id) -> StudentLinks:
    """Caseload, aide assignments and guardianships of one student, current and ended."""
    return await service.student_links(
        current_user(request), student_id, request_id=request_id(request)
    )


@post(
    "/api/admin/links",
    guards=ADMIN,
    tags=["admin"],
    opt={
        "errors": {
            404: "No such person or student in this school.",
            409: "This link already exists, or the guardianship was revoked.",
        }
    },
)
async def add_link(request: Request[Any, Any, Any], data: LinkIn) -> dict[str, int]:
    link_id = await service.add_link(
        current_user(request),
        kind=data.kind,
        user_id=data.user_id,
        student_id=data.student_id,
        relationship=data.relationship,
        request_id=request_id(request),
    )
    return {"id": link_id}


@post(
    "/api/admin/links/{kind:str}/{link_id:int}/end", guards=ADMIN, tags=["admin"], status_code=200
)
async def end_link(request: Request[Any, Any, Any], kind: LinkKind, link_id: Id) -> dict[str, int]:
    """End a link now. Its start and end stay on record."""
    student_id = await service.end_link(
        current_user(request), _kind(kind), link_id, request_id=request_id(request)
    )
    return {"student_id": student_id}


@post(
    "/api/admin/guardianships/{link_id:int}/revoke", guards=ADMIN, tags=["admin"], status_code=200
)
async def revoke_guardianship(
    request: Request[Any, Any, Any], link_id: Id, data: RevokeIn
) -> dict[str, int]:
    """Revoke a guardianship (court order): access ends for good."""
    student_id = await service.revoke_guardianship(
        current_user(request), link_id, data.reason, request_id=request_id(request)
    )
    return {"student_id": student_id}


@post(
    "/api/admin/services/{service_id:int}/provider/end",
    guards=ADMIN,
    tags=["admin"],
    status_code=200,
)
async def end_service_access(request: Request[Any, Any, Any], service_id: Id) -> dict[str, int]:
    """End the access a provider has to the student through this service (the service
    and who was named on it stay on record)."""
    student_id = await service.end_service_access(
        current_user(request), service_id, request_id=request_id(request)
    )
    return {"student_id": student_id}


@get("/api/admin/invitations", guards=ADMIN, tags=["admin"])
async def list_invitations(request: Request[Any, Any, Any]) -> list[InvitationRow]:
    return await service.list_invitations(current_user(request))


@post("/api/admin/invitations/{link_id:int}/cancel", guards=ADMIN, tags=["admin"], status_code=200)
async def cancel_invitation(request: Request[Any, Any, Any], link_id: Id) -> dict[str, bool]:
    await service.cancel_link(current_user(request), link_id, request_id=request_id(request))
    return {"cancelled": True}


@get("/api/admin/devices", guards=ADMIN, tags=["admin"])
async def list_devices(request: Request[Any, Any, Any]) -> list[DeviceRow]:
    return await service.list_devices(current_user(request))


ROUTES: list[Any] = [
    list_users,
    change_role,
    deactivate_user,
    reactivate_user,
    list_students,
    create_student,
    student_links,
    add_link,
    end_link,
    revoke_guardianship,
    end_service_access,
    list_invitations,
    cancel_invitation,
    list_devices,
    *pages.ROUTES,
]
