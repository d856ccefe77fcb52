"""Field limits shared by every schema, and the raw-input checks the middleware applies.

msgspec enforces types, lengths and ranges per field. Two things it lets through are
refused here for every request, before any handler runs: NUL characters (valid JSON,
poison for Postgres text) and lone UTF-16 surrogates (not valid Unicode).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from urllib.parse import unquote_to_bytes

from msgspec import Meta

# Text fields
ShortText = Annotated[str, Meta(min_length=1, max_length=200)]
OptionalShortText = Annotated[str, Meta(max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
PersonName = Annotated[str, Meta(min_length=1, max_length=100)]
Email = Annotated[
    str,
    Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Password = Annotated[str, Meta(min_length=8, max_length=1024)]
LongText = Annotated[str, Meta(max_length=4000)]
MessageBody = Annotated[str, Meta(min_length=1, max_length=8000)]
Reason = Annotated[str, Meta(min_length=1, max_length=1000)]
Timezone = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
Language = Annotated[str, Meta(pattern=r"^(en|es)$")]
Role = Annotated[str, Meta(pattern=r"^(admin|teacher|provider|aide|parent)$")]
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]

# Dates within sane bounds for school records.
MIN_DATE = date(1990, 1, 1)
MAX_DATE = date(2100, 1, 1)

# An escape counts only after an even number of backslashes: "\\u0000" in JSON is the
# six characters \u0000 that someone typed, not a NUL.
_ESCAPE_START = rb"(?<!\\)(?:\\\\)*"
_LONE_SURROGATE_ESCAPE = re.compile(
    _ESCAPE_START + rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|" + _ESCAPE_START + rb"(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_NUL_ESCAPE = re.compile(_ESCAPE_START + rb"\\u0000")

# msgspec decodes nesting by recursion and raises RecursionError (a 500) around a
# thousand levels; no Tandem body nests more than a handful.
MAX_JSON_DEPTH = 64
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _outside_strings(data: bytes) -> bytes:
    """`data` without the contents of its JSON strings. An escaped backslash, then an
    escaped quote, is removed first; every quote left opens or closes a string, so
    the pieces between them alternate outside / inside. Byte-level C operations only
    (a regular expression over a 50 KB sync batch cost a third of a millisecond). Where
    the JSON is invalid the split may be wrong past that point, but a parser stops
    there: the depth it could reach is counted right."""
    return b"".join(data.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[::2])


def json_depth(data: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in `data` (brackets in strings do not count);
    stops counting once past `limit`."""
    if b"[" not in data and b"{" not in data:
        return 0
    skeleton = _outside_strings(data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in skeleton:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def raw_input_problem(data: bytes, *, urlencoded: bool = False) -> str | None:
    """Why these raw bytes (a JSON body, a form body or a query string) are refused."""
    if urlencoded:
        data = unquote_to_bytes(data.replace(b"+", b" "))
    # The escape patterns only matter where a \u escape occurs at all (a fast C search
    # first: scanning a 50 KB sync batch with them costs milliseconds).
    escapes = not urlencoded and b"\\u" in data
    if b"\x00" in data or (escapes and _NUL_ESCAPE.search(data)):
        return "Text may not contain NUL characters."
    try:
        data.decode("utf-8")  # strict: encoded surrogates are refused here too
    except UnicodeDecodeError:
        return "The request is not valid UTF-8."
    if escapes and _LONE_SURROGATE_ESCAPE.search(data):
        return "Text may not contain unpaired surrogate characters."
    if not urlencoded and json_depth(data) > MAX_JSON_DEPTH:
        return f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
    return None


def text_problem(value: str) -> str | None:
    """The same checks on decoded text (form fields, path parameters)."""
    if "\x00" in value:
        return "Text may not contain NUL characters."
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        return "Text may not contain unpaired surrogate characters."
    return None
