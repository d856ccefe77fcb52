"""Which body a route takes, from its handler alone (no server)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from litestar import Litestar, Request, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, JSONBody, MultipartBody

from server.bodies import (
    READS_FORM,
    body_kind,
    check_routes,
    decode_strictly,
    media_type_problem,
)


class Link(msgspec.Struct, forbid_unknown_fields=True):
    student_id: int


@post("/json")
async def takes_json(data: Link) -> None: ...


@post("/json-marker")
async def takes_json_marker(data: JSONBody[Link]) -> None: ...


@post("/form")
async def takes_form(
    data: Annotated[Link, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> None:
    pass


@post("/page", opt=READS_FORM)
async def reads_form(request: Request[Any, Any, Any]) -> None: ...


@post("/nothing")
async def takes_nothing() -> None: ...


@post("/upload")
async def takes_multipart(data: MultipartBody[dict[str, Any]]) -> None: ...


def test_the_kind_of_body_comes_from_the_signature() -> None:
    app = Litestar([takes_json, takes_json_marker, takes_form, reads_form, takes_nothing])
    check_routes(app)
    kinds = [body_kind(h) for h in (takes_json, takes_json_marker, takes_form, reads_form)]
    assert kinds == ["json", "json", "form", "form"]
    assert body_kind(takes_nothing) == "none"


def test_a_multipart_route_fails_at_start_up() -> None:
    # InputGuard checks no field of a multipart body for NUL bytes.
    with pytest.raises(ValueError, match="multipart/form-data"):
        check_routes(Litestar([takes_multipart]))


@pytest.mark.parametrize(
    ("kind", "content_type", "needle"),
    [
        ("json", b"application/json", None),
        ("json", b"application/json; charset=utf-8", None),
        ("json", b"APPLICATION/JSON", None),
        ("json", b"application/x-www-form-urlencoded", "not application/x-www-form-urlencoded"),
        ("json", b"multipart/form-data; boundary=x", "not multipart/form-data"),
        ("json", b"application/jsonp", "not application/jsonp"),
        ("json", b"", "no Content-Type"),
        ("form", b"application/x-www-form-urlencoded", None),
        ("form", b"application/json", "takes application/x-www-form-urlencoded"),
        ("none", b"application/json", "takes no body"),
        ("none", b"", "takes no body"),
    ],
)
def test_media_type_problem(kind: Any, content_type: bytes, needle: str | None) -> None:
    problem = media_type_problem(kind, content_type)
    if needle is None:
        assert problem is None
    else:
        assert problem is not None
        assert needle in problem


def test_json_is_decoded_strictly() -> None:
    assert decode_strictly(b'{"student_id": 5}', Link) == Link(student_id=5)
    with pytest.raises(ValidationException) as refused:
        decode_strictly(b'{"student_id": "5"}', Link)
    assert refused.value.extra == [
        {"message": "Expected `int`, got `str`", "source": "body", "key": "student_id"}
    ]
