"""The OpenAPI document is the API's contract: every status an /api operation can answer
is in it, derived here in one place from what the route is made of, so a new route
cannot forget one.

- every route: 400 (the input guard refuses NUL bytes, bad UTF-8 in the path or query),
  503 (database unavailable, with Retry-After);
- a guard: 401 when nobody is logged in; a role guard also 403;
- a state-changing method: 403 (CSRF), 413 (body size limit);
- a request body: 400 (validation), 415 (not JSON);
- a path parameter: 404 (no such record, or outside the caller's scope);
- anything else a handler knows it raises: `opt={"errors": {409: "why"}}` on the route.

Only JSON is served under /schema: the UIs Litestar bundles load their scripts from a
third-party CDN, which our pages never do (docs/security.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin

from server.auth.guards import authenticated, session_presented

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

DESCRIPTIONS = {
    400: "The request was refused: invalid input (the detail names the field).",
    401: "Not logged in, or the session has ended.",
    403: "The caller's role may not do this, or the CSRF header is missing.",
    404: "No such record, or it is outside the caller's scope.",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
    503: "The database is unavailable; nothing was saved. Retry after a moment.",
}


class ErrorOut(msgspec.Struct, omit_defaults=True):
    """The one shape of every error (server/errors.py)."""

    status_code: int
    detail: str
    extra: dict[str, Any] | list[Any] | None = None


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Tandem",
        version="0.1.0",
        path="/schema",
        render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
    )


def _guard_statuses(guard: Any) -> set[int]:
    if getattr(guard, "roles", None):
        return {401, 403}
    if guard in (authenticated, session_presented):
        return {401}
    # A new kind of guard must say what it answers before its routes are documented.
    raise ValueError(f"server/openapi.py does not know which statuses guard {guard!r} answers")


def error_statuses(handler: HTTPRouteHandler) -> dict[int, str]:
    statuses = {400, 503}
    for guard in handler.guards or ():
        statuses |= _guard_statuses(guard)
    if set(handler.http_methods) & UNSAFE_METHODS:
        statuses |= {403, 413}
    if "data" in inspect.signature(handler.fn).parameters:
        statuses |= {400, 415}
    if handler.paths and any("{" in path for path in handler.paths):
        statuses.add(404)
    documented = {status: DESCRIPTIONS[status] for status in statuses}
    documented.update(handler.opt.get("errors", {}))
    return dict(sorted(documented.items()))


def document_errors(handlers: Iterable[Any]) -> None:
    """Give every /api handler a response spec for each error status it can answer."""
    for handler in handlers:
        if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
            continue
        responses = {
            status: ResponseSpec(
                data_container=ErrorOut, description=description, generate_examples=False
            )
            for status, description in error_statuses(handler).items()
        }
        handler.responses = {**responses, **(handler.responses or {})}
