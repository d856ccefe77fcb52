"""Invitations and password resets: making links (API) and using them (pages)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_429_TOO_MANY_REQUESTS,
)

from server.auth import invites, service
from server.auth.cookies import login_cookies
from server.auth.guards import current_user, role_in
from server.auth.ratelimit import RateLimited
from server.auth.schemas import (
    AcceptInviteForm,
    CsrfOnlyForm,
    FamilyInviteForm,
    InviteIn,
    ResetLinkIn,
    ResetPasswordForm,
)
from server.auth.sessions import DEVICE_COOKIE, SESSION_COOKIE, read_cookie
from server.validation import Id, text_problem


def request_id(request: Request[Any, Any, Any]) -> str | None:
    state = request.scope.get("state") or {}
    value = state.get("request_id")
    return str(value) if value else None


@post(
    "/api/invites",
    guards=[role_in("admin", "teacher")],
    tags=["accounts"],
    opt={
        "errors": {
            404: "No such student in the caller's scope.",
            409: "Someone with this email already has an account, or was a guardian "
            "whose guardianship was revoked.",
        }
    },
)
async def create_invite(request: Request[Any, Any, Any], data: InviteIn) -> invites.CreatedLink:
    """Invite staff (admins) or a parent for one student (admins, and teachers for their
    caseload). The link is in the response, and emailed when SMTP is configured."""
    return await invites.create_invite(
        current_user(request),
        email=data.email,
        name=data.name,
        role=data.role,
        student_id=data.student_id,
        request_id=request_id(request),
        relationship=data.relationship,
    )


@post(
    "/api/reset-links",
    guards=[role_in("admin", "teacher")],
    tags=["accounts"],
    opt={"errors": {404: "No such person among the people the caller looks after."}},
)
async def create_reset_link(
    request: Request[Any, Any, Any], data: ResetLinkIn
) -> invites.CreatedLink:
    return await invites.create_reset(
        current_user(request), data.user_id, request_id=request_id(request)
    )


async def _logged_in(request: Request[Any, Any, Any], accepted: invites.Accepted) -> Response[Any]:
    result = await service.start_session(
        user_id=accepted.user_id,
        school_id=accepted.school_id,
        role=accepted.role,
        device_token=request.cookies.get(DEVICE_COOKIE),
        user_agent=request.headers.get("user-agent", ""),
        planted_session=read_cookie(request.scope, SESSION_COOKIE),
    )
    return Redirect(path=result.home, cookies=login_cookies(result), status_code=303)


def _invite_page(
    link: invites.PendingLink,
    token: str,
    *,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        template_name="invite/accept.html.j2",
        context={"link": link, "token": token, "error": error},
        status_code=status,
        headers=headers,
    )


@get("/invite/{token:str}", include_in_schema=False)
async def invite_page(token: str) -> Template:
    # Opening the page does not use the link (mail scanners open links too).
    return _invite_page(await invites.pending("invite", token), token)


@post("/invite/{token:str}", include_in_schema=False)
async def accept_invite(
    request: Request[Any, Any, Any],
    token: str,
    data: Annotated[AcceptInviteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    link = await invites.pending("invite", token)
    problem = text_problem(data.name) or (
        None if link.existing_user else invites.password_problem(data.password)
    )
    if problem:
        return _invite_page(link, token, error=problem, status=HTTP_400_BAD_REQUEST)
    try:
        accepted = await invites.accept_invite(
            token,
            name=data.name,
            password=data.password,
            client_address=request.client.host if request.client else "unknown",
            device_token=request.cookies.get(DEVICE_COOKIE),
        )
    except invites.WrongPassword:
        return _invite_page(link, token, error=service.LOGIN_FAILED, status=HTTP_401_UNAUTHORIZED)
    except RateLimited as exc:
        return _invite_page(
            link,
            token,
            error=service.LOGIN_LIMITED,
            status=HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return await _logged_in(request, accepted)


def _reset_page(
    link: invites.PendingLink, token: str, *, error: str | None = None, status: int = 200
) -> Template:
    return Template(
        template_name="auth/reset.html.j2",
        context={"link": link, "token": token, "error": error},
        status_code=status,
    )


@get("/reset/{token:str}", include_in_schema=False)
async def reset_page(token: str) -> Template:
    return _reset_page(await invites.pending("reset", token), token)


@post("/reset/{token:str}", include_in_schema=False)
async def reset_password(
    request: Request[Any, Any, Any],
    token: str,
    data: Annotated[ResetPasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    link = await invites.pending("reset", token)
    problem = invites.password_problem(data.password)
    if problem:
        return _reset_page(link, token, error=problem, status=HTTP_400_BAD_REQUEST)
    return await _logged_in(request, await invites.accept_reset(token, password=data.password))


FAMILY_STAFF = [role_in("admin", "teacher")]


def _families_page(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    return Template(
        template_name=f"invite/{template}.html.j2",
        context={"me": current_user(request), **context},
    )


@get("/families", guards=FAMILY_STAFF, include_in_schema=False)
async def families_page(request: Request[Any, Any, Any]) -> Template:
    """A teacher's (or admin's) families: invite a parent, make a parent's reset link."""
    rows = await invites.families(current_user(request), request_id=request_id(request))
    return _families_page(request, "families", families=rows)


@post("/families/invite", guards=FAMILY_STAFF, include_in_schema=False)
async def families_invite(
    request: Request[Any, Any, Any],
    data: Annotated[FamilyInviteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    problem = text_problem(data.name)
    if problem:
        raise HTTPException(status_code=HTTP_400_BAD_REQUEST, detail=problem)
    link = await invites.create_invite(
        current_user(request),
        email=data.email,
        name=data.name,
        role="parent",
        student_id=data.student_id,
        request_id=request_id(request),
        relationship=data.relationship,
    )
    return _families_page(request, "link", link=link)


@post("/families/{user_id:int}/reset-link", guards=FAMILY_STAFF, include_in_schema=False)
async def families_reset_link(
    request: Request[Any, Any, Any],
    user_id: Id,
    data: Annotated[CsrfOnlyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    link = await invites.create_reset(
        current_user(request), user_id, request_id=request_id(request)
    )
    return _families_page(request, "link", link=link)


ROUTES = [
    families_page,
    families_invite,
    families_reset_link,
    create_invite,
    create_reset_link,
    invite_page,
    accept_invite,
    reset_page,
    reset_password,
]
