"""HTTP routes of the sync domain: register a client, and the one sync endpoint."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, post
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_413_REQUEST_ENTITY_TOO_LARGE

from server.auth.devices import device_label
from server.auth.guards import authenticated, current_user, session_presented
from server.errors import ServiceUnavailable
from server.sync import service
from server.sync.schemas import (
    MAX_OPS,
    PROTOCOL,
    ClientIn,
    ClientOut,
    SyncIn,
    SyncOut,
)

CONCURRENT_RETRIES = 3


def _forbidden(exc: service.ClientForbidden) -> PermissionDeniedException:
    return PermissionDeniedException(
        detail=f"client_forbidden: {exc}", extra={"code": "client_forbidden"}
    )


@post("/api/sync/clients", guards=[authenticated], tags=["sync"], status_code=201)
async def register_client(request: Request[Any, Any, Any], data: ClientIn) -> ClientOut:
    """Register this app instance as a sync client of the logged-in user; the device
    is named again from the browser's hints (its model), if it sent them."""
    label = None
    if data.device is not None:  # else the name given at login (from the user agent) stays
        label = device_label(
            request.headers.get("user-agent", ""),
            model=data.device.model,
            platform=data.device.platform,
        )
    try:
        return await service.register_client(
            current_user(request),
            app_version=data.app_version,
            replaces=data.replaces,
            lost_ops=data.lost_ops,
            device_label=label,
        )
    except service.ClientForbidden as exc:
        raise _forbidden(exc) from None


@post("/api/sync", guards=[session_presented], tags=["sync"], status_code=200)
async def sync(request: Request[Any, Any, Any], data: SyncIn) -> SyncOut:
    """Push queued ops and pull changes in one round trip (docs/sync-protocol.md).

    The session is resolved by the sync engine's first statement, not by the middleware
    (sessions.DEFERRED_PATHS); if it is not live the answer is 401 and nothing is
    written."""
    session_hash = request.scope.get("session_hash")
    assert isinstance(session_hash, bytes)  # the guard refused the request otherwise
    if data.protocol != PROTOCOL:
        raise HTTPException(
            status_code=HTTP_400_BAD_REQUEST,
            detail=f"Unsupported sync protocol {data.protocol}; this server speaks {PROTOCOL}.",
        )
    if len(data.ops) > MAX_OPS:
        raise HTTPException(
            status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            detail=f"Too many ops in one request: {len(data.ops)} (limit {MAX_OPS} ops).",
        )
    request_id = request.scope.get("state", {}).get("request_id")
    for attempt in range(CONCURRENT_RETRIES):
        try:
            return await service.sync(
                session_hash, data, request_id=request_id, careful=attempt > 0
            )
        except service.ClientForbidden as exc:
            raise _forbidden(exc) from None
        except service.SessionEnded:
            raise NotAuthorizedException("Please log in.") from None
        except service.StaleBatch:
            # Another request of this client, or a teacher's review, committed between
            # the batch's read and its write; nothing was written. Judged again, a
            # re-sent op is now a duplicate, an op on an approved session a correction.
            if attempt + 1 == CONCURRENT_RETRIES:
                raise ServiceUnavailable(
                    detail="This device's data changed while the batch was being saved; "
                    "nothing was saved from it. Please retry.",
                    headers={"Retry-After": "1"},
                ) from None
        except (
            asyncpg.UniqueViolationError,
            asyncpg.DeadlockDetectedError,
            asyncpg.SerializationError,
        ):
            # Another client committed the same op id (or session id) at the same moment,
            # or a lock cycle was broken: the transaction rolled back whole; judged again,
            # the op is now a conflict or a duplicate, never a second write.
            if attempt + 1 == CONCURRENT_RETRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


ROUTES = [register_client, sync]
