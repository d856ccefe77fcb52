"""Login and logout (pages and JSON), the current user, and device revocation."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS

from server.auth import account_routes, invite_routes, service
from server.auth.cookies import login_cookies
from server.auth.guards import authenticated, current_user, role_in
from server.auth.ratelimit import RateLimited
from server.auth.schemas import LoginForm, LoginIn, LoginOut, Me
from server.auth.sessions import DEVICE_COOKIE, SESSION_COOKIE, delete_session, read_cookie
from server.bodies import READS_FORM
from server.settings import get_settings
from server.validation import Id


def _cookies(result: service.LoginResult) -> list[Cookie]:
    return login_cookies(result)


def _clear_session_cookie() -> Cookie:
    s = get_settings()
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        httponly=True,
        secure=s.secure_cookies,
        samesite="lax",
        path="/",
        max_age=0,
    )


def _safe_next(path: str, default: str) -> str:
    # Only same-site absolute paths: never "//evil.example" or "https://...".
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


async def _login(request: Request[Any, Any, Any], email: str, password: str) -> service.LoginResult:
    client = request.client.host if request.client else "unknown"
    return await service.login(
        email=email,
        password=password,
        client_address=client,
        device_token=request.cookies.get(DEVICE_COOKIE),
        user_agent=request.headers.get("user-agent", ""),
        planted_session=read_cookie(request.scope, SESSION_COOKIE),
    )


def _too_many(exc: RateLimited) -> HTTPException:
    return HTTPException(
        status_code=HTTP_429_TOO_MANY_REQUESTS,
        detail=service.LOGIN_LIMITED,
        headers={"Retry-After": str(exc.retry_after)},
    )


@get("/login", include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any], next: str = "", signed_out: bool = False
) -> Template:
    # signed_out: arrived from a page's Log out; the page then clears the app's local
    # data in this browser (pwa/js/signed-out.js), as the app's own Log out does.
    return Template(
        template_name="auth/login.html.j2",
        context={"next": next, "error": None, "signed_out": signed_out},
    )


@post("/login", include_in_schema=False)
async def login_form(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    try:
        result = await _login(request, data.email, data.password)
    except RateLimited as exc:
        return Template(
            template_name="auth/login.html.j2",
            context={"next": data.next, "error": service.LOGIN_LIMITED, "email": data.email},
            status_code=HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except service.LoginFailed:
        return Template(
            template_name="auth/login.html.j2",
            context={"next": data.next, "error": service.LOGIN_FAILED, "email": data.email},
            status_code=401,
        )
    return Redirect(path=_safe_next(data.next, result.home), cookies=_cookies(result))


@post(
    "/api/auth/login",
    tags=["auth"],
    status_code=200,
    opt={
        "errors": {
            401: "Wrong email or password (the same answer for unknown accounts).",
            429: "Too many attempts for this account or address; see Retry-After.",
        }
    },
)
async def login_api(request: Request[Any, Any, Any], data: LoginIn) -> Response[LoginOut]:
    try:
        result = await _login(request, data.email, data.password)
    except RateLimited as exc:
        raise _too_many(exc) from None
    except service.LoginFailed:
        raise NotAuthorizedException(service.LOGIN_FAILED) from None
    return Response(
        LoginOut(user_id=result.user_id, role=result.role, home=result.home),
        cookies=_cookies(result),
        status_code=200,
    )


async def _logout(request: Request[Any, Any, Any]) -> None:
    token = read_cookie(request.scope, SESSION_COOKIE)
    if token:
        await delete_session(token)


# The page posts a form that carries only the CSRF token.
@post("/logout", include_in_schema=False, opt=READS_FORM)
async def logout_form(request: Request[Any, Any, Any]) -> Redirect:
    await _logout(request)
    return Redirect(path="/login?signed_out=1", cookies=[_clear_session_cookie()])


@post("/api/auth/logout", tags=["auth"], status_code=200)
async def logout_api(request: Request[Any, Any, Any]) -> Response[dict[str, bool]]:
    await _logout(request)
    return Response({"ok": True}, cookies=[_clear_session_cookie()])


@get("/api/me", guards=[authenticated], tags=["auth"])
async def me(request: Request[Any, Any, Any]) -> Me:
    u = current_user(request)
    return Me(
        id=u.id,
        name=u.name,
        email=u.email,
        role=u.role,
        school_id=u.school_id,
        language=u.language,
        timezone=u.timezone,
        device_id=u.device_id,
        home=service.HOME_BY_ROLE[u.role],
        notice_pending=u.notice_pending,
    )


@post("/api/admin/devices/{device_id:int}/revoke", guards=[role_in("admin")], tags=["admin"])
async def revoke_device(request: Request[Any, Any, Any], device_id: Id) -> dict[str, bool]:
    if not await service.revoke_device(current_user(request), device_id):
        raise NotFoundException("No such device in your school.")
    return {"revoked": True}


@get("/", include_in_schema=False)
async def root(request: Request[Any, Any, Any]) -> Redirect:
    user = request.scope.get("user")
    if user is None:
        return Redirect(path="/login")
    return Redirect(path=service.HOME_BY_ROLE[user.role])


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


ROUTES = [
    login_page,
    login_form,
    login_api,
    logout_form,
    logout_api,
    me,
    revoke_device,
    root,
    healthz,
    *invite_routes.ROUTES,
    *account_routes.ROUTES,
]
