"""server/openapi.py: the statuses a route is documented with follow from its parts."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.auth.guards import authenticated, role_in
from server.openapi import error_statuses


@get("/api/things/{thing_id:int}", guards=[role_in("teacher")])
async def read_thing(thing_id: int) -> dict[str, int]:
    return {"id": thing_id}


@post("/api/things", guards=[authenticated], opt={"errors": {409: "It exists."}})
async def add_thing(data: dict[str, Any]) -> dict[str, int]:
    return {"id": 1}


async def homemade_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    return None


@get("/api/other", guards=[homemade_guard])
async def other() -> dict[str, int]:
    return {}


def test_a_role_guard_and_a_path_id_mean_401_403_404() -> None:
    assert set(error_statuses(read_thing)) == {400, 401, 403, 404, 503}


def test_a_body_on_an_unsafe_method_adds_csrf_size_and_type_and_the_route_its_own() -> None:
    statuses = error_statuses(add_thing)
    assert set(statuses) == {400, 401, 403, 409, 413, 415, 503}
    assert statuses[409] == "It exists."


def test_a_guard_of_unknown_kind_stops_the_documentation() -> None:
    with pytest.raises(ValueError, match="homemade_guard"):
        error_statuses(other)
