"""The admin's pages (/admin): people, students and their links, invitations, devices.

Server-rendered, no script. Every form posts with the CSRF hidden field and lands back on
the page it came from with a fixed message (?done=…): nothing the user typed is echoed
through the URL. A link that was just made (invitation, reset) is shown once to copy.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template

from server.auth import invites
from server.auth import service as auth_service
from server.auth.guards import current_user, role_in
from server.auth.invite_routes import request_id
from server.roster import service
from server.roster.schemas import (
    CsrfOnlyForm,
    InviteForm,
    LinkForm,
    LinkKind,
    RevokeForm,
    RoleForm,
    StudentForm,
)
from server.validation import Id, text_problem

ADMIN = [role_in("admin")]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)

DONE_MESSAGES = {
    "role": "Role changed. That person's sessions have ended; they sign in again.",
    "deactivated": "Deactivated. Their sessions have ended and they can no longer sign in.",
    "reactivated": "Reactivated. They can sign in again.",
    "student": "Student added.",
    "linked": "Link added.",
    "ended": "Link ended. Its history is kept below.",
    "service_ended": "The provider's access through this service has ended. The service stays.",
    "revoked": "Guardianship revoked. This parent's access to the student has ended for good.",
    "cancelled": "Link cancelled. It can no longer be used.",
    "device": "Device revoked. Its sessions have ended and it can no longer sync.",
}
STAFF_ROLES = invites.STAFF_ROLES
ALL_ROLES = (*STAFF_ROLES, "parent")


def _page(request: Request[Any, Any, Any], name: str, **context: Any) -> Template:
    done = request.query_params.get("done", "")
    return Template(
        template_name=f"admin/{name}.html.j2",
        context={
            "me": current_user(request),
            "done": DONE_MESSAGES.get(done),
            "section": name,
            **context,
        },
    )


def _check_text(*values: str) -> None:
    for value in values:
        problem = text_problem(value)
        if problem:
            raise HTTPException(status_code=400, detail=problem)


@get("/admin", guards=ADMIN, include_in_schema=False)
async def admin_home(request: Request[Any, Any, Any]) -> Template:
    admin = current_user(request)
    users = await service.list_users(admin)
    invitations = await service.list_invitations(admin)
    devices = await service.list_devices(admin)
    return _page(
        request,
        "home",
        counts={
            "people": len(users),
            "students": await service.count_current_students(admin),
            "pending": len([i for i in invitations if i.status == "pending"]),
            "devices": len([d for d in devices if d.revoked_at is None]),
        },
    )


@get("/admin/people", guards=ADMIN, include_in_schema=False)
async def people_page(request: Request[Any, Any, Any]) -> Template:
    admin = current_user(request)
    return _page(
        request,
        "people",
        users=await service.list_users(admin),
        roles=ALL_ROLES,
        staff_roles=STAFF_ROLES,
    )


@post("/admin/people/{user_id:int}/role", guards=ADMIN, include_in_schema=False)
async def people_role(
    request: Request[Any, Any, Any], user_id: Id, data: Annotated[RoleForm, FORM]
) -> Redirect:
    await service.set_role(current_user(request), user_id, data.role)
    return Redirect(path="/admin/people?done=role", status_code=303)


@post("/admin/people/{user_id:int}/deactivate", guards=ADMIN, include_in_schema=False)
async def people_deactivate(
    request: Request[Any, Any, Any], user_id: Id, data: Annotated[CsrfOnlyForm, FORM]
) -> Redirect:
    await service.set_active(current_user(request), user_id, False, request_id=request_id(request))
    return Redirect(path="/admin/people?done=deactivated", status_code=303)


@post("/admin/people/{user_id:int}/reactivate", guards=ADMIN, include_in_schema=False)
async def people_reactivate(
    request: Request[Any, Any, Any], user_id: Id, data: Annotated[CsrfOnlyForm, FORM]
) -> Redirect:
    await service.set_active(current_user(request), user_id, True, request_id=request_id(request))
    return Redirect(path="/admin/people?done=reactivated", status_code=303)


@post("/admin/people/{user_id:int}/reset-link", guards=ADMIN, include_in_schema=False)
async def people_reset_link(
    request: Request[Any, Any, Any], user_id: Id, data: Annotated[CsrfOnlyForm, FORM]
) -> Template:
    link = await invites.create_reset(
        current_user(request), user_id, request_id=request_id(request)
    )
    return _page(request, "link_created", link=link)


@get("/admin/invitations", guards=ADMIN, include_in_schema=False)
async def invitations_page(request: Request[Any, Any, Any]) -> Template:
    admin = current_user(request)
    return _page(
        request,
        "invitations",
        invitations=await service.list_invitations(admin),
        students=await service.list_students(
            admin, page="/admin/invitations", request_id=request_id(request), current_only=True
        ),
        roles=ALL_ROLES,
    )


@post("/admin/invitations", guards=ADMIN, include_in_schema=False)
async def invitations_create(
    request: Request[Any, Any, Any], data: Annotated[InviteForm, FORM]
) -> Template:
    _check_text(data.name)
    student_id = int(data.student_id) if data.student_id else None
    if data.role != "parent":
        student_id = None  # the student menu only applies to parents
    link = await invites.create_invite(
        current_user(request),
        email=data.email,
        name=data.name,
        role=data.role,
        student_id=student_id,
        request_id=request_id(request),
    )
    return _page(request, "link_created", link=link)


@post("/admin/invitations/{link_id:int}/cancel", guards=ADMIN, include_in_schema=False)
async def invitations_cancel(
    request: Request[Any, Any, Any], link_id: Id, data: Annotated[CsrfOnlyForm, FORM]
) -> Redirect:
    await service.cancel_link(current_user(request), link_id, request_id=request_id(request))
    return Redirect(path="/admin/invitations?done=cancelled", status_code=303)


@get("/admin/students", guards=ADMIN, include_in_schema=False)
async def students_page(request: Request[Any, Any, Any]) -> Template:
    students = await service.list_students(
        current_user(request), page="/admin/students", request_id=request_id(request)
    )
    return _page(request, "students", students=students)


@post("/admin/students", guards=ADMIN, include_in_schema=False)
async def students_create(
    request: Request[Any, Any, Any], data: Annotated[StudentForm, FORM]
) -> Redirect:
    _check_text(data.first_name, data.last_name, data.grade)
    try:
        born = date.fromisoformat(data.date_of_birth) if data.date_of_birth else None
    except ValueError:
        raise HTTPException(status_code=400, detail="The date of birth is not a date.") from None
    student = await service.create_student(
        current_user(request),
        first_name=data.first_name,
        last_name=data.last_name,
        grade=data.grade,
        date_of_birth=born,
        external_id=data.external_id or None,
        request_id=request_id(request),
    )
    return Redirect(path=f"/admin/students/{student.id}?done=student", status_code=303)


@get("/admin/students/{student_id:int}", guards=ADMIN, include_in_schema=False)
async def student_page(request: Request[Any, Any, Any], student_id: Id) -> Template:
    admin = current_user(request)
    links = await service.student_links(admin, student_id, request_id=request_id(request))
    users = [u for u in await service.list_users(admin) if u.is_active]
    return _page(
        request,
        "student",
        student=links.student,
        links=links.links,
        services=links.services,
        kinds=[
            ("caseload", "Caseload (teacher or provider)"),
            ("assignment", "Aide assignment"),
            ("guardianship", "Guardianship (parent)"),
        ],
        candidates={
            kind: [u for u in users if u.role in roles]
            for kind, (_, _, roles) in service.LINK_KINDS.items()
        },
    )


@post("/admin/students/{student_id:int}/links", guards=ADMIN, include_in_schema=False)
async def student_link_add(
    request: Request[Any, Any, Any], student_id: Id, data: Annotated[LinkForm, FORM]
) -> Redirect:
    _check_text(data.relationship)
    await service.add_link(
        current_user(request),
        kind=data.kind,
        user_id=data.user_id,
        student_id=student_id,
        relationship=data.relationship,
        request_id=request_id(request),
    )
    return Redirect(path=f"/admin/students/{student_id}?done=linked", status_code=303)


@post("/admin/links/{kind:str}/{link_id:int}/end", guards=ADMIN, include_in_schema=False)
async def link_end(
    request: Request[Any, Any, Any],
    kind: LinkKind,
    link_id: Id,
    data: Annotated[CsrfOnlyForm, FORM],
) -> Redirect:
    if kind not in service.LINK_KINDS:
        raise NotFoundException("No such kind of link.")
    student_id = await service.end_link(
        current_user(request), kind, link_id, request_id=request_id(request)
    )
    return Redirect(path=f"/admin/students/{student_id}?done=ended", status_code=303)


@post("/admin/guardianships/{link_id:int}/revoke", guards=ADMIN, include_in_schema=False)
async def guardianship_revoke(
    request: Request[Any, Any, Any], link_id: Id, data: Annotated[RevokeForm, FORM]
) -> Redirect:
    _check_text(data.reason)
    student_id = await service.revoke_guardianship(
        current_user(request), link_id, data.reason, request_id=request_id(request)
    )
    return Redirect(path=f"/admin/students/{student_id}?done=revoked", status_code=303)


@post("/admin/services/{service_id:int}/provider/end", guards=ADMIN, include_in_schema=False)
async def service_access_end(
    request: Request[Any, Any, Any], service_id: Id, data: Annotated[CsrfOnlyForm, FORM]
) -> Redirect:
    student_id = await service.end_service_access(
        current_user(request), service_id, request_id=request_id(request)
    )
    return Redirect(path=f"/admin/students/{student_id}?done=service_ended", status_code=303)


@get("/admin/devices", guards=ADMIN, include_in_schema=False)
async def devices_page(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    return _page(
        request,
        "devices",
        devices=await service.list_devices(user),
        clock=await service.staff_clock(user),
    )


@post("/admin/devices/{device_id:int}/revoke", guards=ADMIN, include_in_schema=False)
async def device_revoke(
    request: Request[Any, Any, Any], device_id: Id, data: Annotated[CsrfOnlyForm, FORM]
) -> Redirect:
    if not await auth_service.revoke_device(current_user(request), device_id):
        raise NotFoundException("No such device in your school.")
    return Redirect(path="/admin/devices?done=device", status_code=303)


ROUTES: list[Any] = [
    admin_home,
    people_page,
    people_role,
    people_deactivate,
    people_reactivate,
    people_reset_link,
    invitations_page,
    invitations_create,
    invitations_cancel,
    students_page,
    students_create,
    student_page,
    student_link_add,
    link_end,
    guardianship_revoke,
    service_access_end,
    devices_page,
    device_revoke,
]
