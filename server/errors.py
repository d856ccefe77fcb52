"""One shape for every error a user can cause; a clear page for browsers.

API errors are JSON: {"status_code": 400, "detail": "...", "extra": ...}. Requests from
pages (Accept: text/html, not under /api) get the same message as an HTML page, and a
401 there redirects to the login page.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from server import i18n

log = logging.getLogger("tandem.errors")


class ServiceUnavailable(HTTPException):
    status_code = HTTP_503_SERVICE_UNAVAILABLE
    detail = "The database is unavailable. Nothing was saved; please retry."


def wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    extra: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if wants_html(request):
        # In the signed-in user's language (the parent interface is English and Spanish).
        user = request.scope.get("user")
        language = i18n.language(getattr(user, "language", None))
        return Template(
            template_name="error.html.j2",
            context={
                "status": status,
                "detail": detail,
                "extra": extra,
                "lang": language,
            },
            status_code=status,
            headers=headers,
        )
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if extra:
        body["extra"] = extra
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException) and wants_html(request):
        return Redirect(path=f"/login?next={request.url.path}")
    extra = exc.extra if isinstance(exc, ValidationException) else getattr(exc, "extra", None)
    detail = exc.detail
    if isinstance(exc, ValidationException) and extra:
        detail = _validation_detail(extra) or detail
    return _error_response(request, exc.status_code, detail, extra, exc.headers)


def _validation_detail(extra: Any) -> str | None:
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        msg = str(extra[0].get("message", ""))
        key = extra[0].get("key")
        return f"{msg} (field: {key})" if key else msg or None
    return None


def database_unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.warning("database unavailable: %s", exc)
    return _error_response(
        request,
        HTTP_503_SERVICE_UNAVAILABLE,
        ServiceUnavailable.detail,
        headers={"Retry-After": "2"},
    )


def data_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The schemas should have refused this first; the database constraint is the backstop.
    log.warning("database refused input: %s", exc)
    return _error_response(request, HTTP_400_BAD_REQUEST, "The data was refused: out of range.")


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, HTTPException):
        return http_exception_handler(request, exc)
    if is_transient_db_error(exc):
        return database_unavailable_handler(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side."
    )


TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.TooManyConnectionsError,
    # While PostgreSQL restarts, asyncpg can find a connection mid-operation ("cannot
    # switch to state …; another operation is in progress"): that connection is broken
    # (the pool drops it) and the request can be retried like any lost connection.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)


def is_transient_db_error(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_DB_ERRORS)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    HTTPException: http_exception_handler,
    asyncpg.exceptions.DataError: data_error_handler,
    asyncpg.exceptions.IntegrityConstraintViolationError: data_error_handler,
    **{e: database_unavailable_handler for e in TRANSIENT_DB_ERRORS if issubclass(e, Exception)},
    Exception: internal_error_handler,
}
