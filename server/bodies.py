"""Which body each route takes, and how a JSON body is decoded.

A route takes JSON (its handler declares `data` without a form encoding), a form (`data`
declared url-encoded, or `opt=READS_FORM` on a page handler that reads `request.form()`
itself) or no body at all. InputGuard refuses a non-empty body of any other media type
with 415 before anything decodes it: Litestar decodes a JSON route's body as JSON
whatever its content type, and the guard's raw checks (nesting depth, `\\u0000`) are
chosen by the content type, so a mislabelled body slipped past them.

A JSON body is decoded strictly, straight into the handler's `data` type: "5" is not an
id, "false" is not a bool. Litestar converts bodies in lax mode; StrictJsonRequest hands
it the finished Struct, which its lax pass returns unchanged.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec
from litestar import Litestar, Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg
from litestar.routes import HTTPRoute
from litestar.types import Empty

BodyKind = Literal["json", "form", "none"]

# For a page handler that reads request.form() itself (it declares no `data`).
READS_FORM: dict[str, Any] = {"body": "form"}

MEDIA_TYPES: dict[BodyKind, bytes] = {
    "json": b"application/json",
    "form": b"application/x-www-form-urlencoded",
}


def body_kind(handler: HTTPRouteHandler) -> BodyKind:
    """The body a route handler takes, from its signature (or READS_FORM)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return "form" if handler.opt.get("body") == "form" else "none"
    declared = data.kwarg_definition
    media_type = declared.media_type if isinstance(declared, BodyKwarg) else None
    if media_type in (None, RequestEncodingType.JSON):
        return "json"
    if media_type == RequestEncodingType.URL_ENCODED:
        return "form"
    # InputGuard checks no field of a multipart (or msgpack) body: a NUL would get through.
    kind = getattr(media_type, "value", media_type)
    raise ValueError(f"{handler.handler_name}: no route may take a {kind} body")


def check_routes(app: Litestar) -> None:
    """Fail at start-up, not on the first request, for a body InputGuard cannot check."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                body_kind(handler)


def media_type_problem(kind: BodyKind, content_type: bytes) -> str | None:
    """Why a non-empty body with this Content-Type is refused by a route taking `kind`."""
    expected = MEDIA_TYPES.get(kind)
    given = content_type.split(b";", 1)[0].strip().lower()
    if expected is None:
        return "This request takes no body."
    if not given:
        return f"This request takes {expected.decode()}; the body has no Content-Type."
    if given != expected:
        return f"This request takes {expected.decode()}, not {given.decode('latin-1')[:80]}."
    return None


_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


class StrictJsonRequest(Request[Any, Any, Any]):
    """A request whose JSON body is decoded strictly into the handler's `data` type."""

    async def json(self) -> Any:
        if self._json is Empty:
            data = self.route_handler.parsed_fn_signature.parameters.get("data")
            kind = data.annotation if data is not None else Any
            self._json = decode_strictly(await self.body(), kind)
        return self._json


def decode_strictly(body: bytes, kind: Any) -> Any:
    try:
        return msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        at = _AT_PATH.search(text)
        message: dict[str, str] = {"message": _AT_PATH.sub("", text), "source": "body"}
        if at and at.group(1):
            message["key"] = at.group(1)
        raise ValidationException(detail=text, extra=[message]) from None
    except msgspec.DecodeError as exc:
        raise ClientException(f"The body is not valid JSON: {exc}") from None
