"""Guards look only at the connection: is someone logged in, in which role.

They are coroutines on purpose: Litestar runs a plain-function guard in a worker thread
(`sync_to_thread`), a thread hop on every guarded request for a check that costs
nanoseconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from server.audit import service as audit
from server.auth.sessions import CurrentUser

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

STAFF = ("admin", "teacher", "provider", "aide")
CASE_MANAGERS = ("teacher", "provider")


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    user = connection.scope.get("user")
    if not isinstance(user, CurrentUser):
        raise NotAuthorizedException("Please log in.")
    return user


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    current_user(connection)


async def session_presented(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """On a path whose handler resolves the session itself (sessions.DEFERRED_PATHS):
    a session cookie was presented. Whether it is live, the handler finds out."""
    if not isinstance(connection.scope.get("session_hash"), bytes):
        raise NotAuthorizedException("Please log in.")


def role_in(*roles: str) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user.role not in roles:
            raise PermissionDeniedException("Your role cannot do this.")

    guard.__name__ = "role_in_" + "_".join(roles)
    guard.roles = roles  # type: ignore[attr-defined]  # read by server/openapi.py
    return guard


def role_in_audited(*roles: str, attempted: str, record_type: str, id_param: str) -> Guard:
    """role_in, and a refusal is written to the audit log (a role that may not do this
    trying is worth knowing). The record id comes from the path parameter `id_param`."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user.role in roles:
            return
        request_id = (connection.scope.get("state") or {}).get("request_id")
        await audit.refusal(
            user,
            attempted=attempted,
            record_type=record_type,
            record_id=connection.path_params.get(id_param),
            request_id=str(request_id) if request_id else None,
            reason="role",
        )
        raise PermissionDeniedException("Your role cannot do this.")

    guard.__name__ = "role_in_audited_" + "_".join(roles)
    return guard
