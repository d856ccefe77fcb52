"""The pull cursor: where the last pull stopped, safe under out-of-order commits.

`since` is pg_snapshot_xmin(pg_current_snapshot()) of the pull that produced it: every
transaction with a lower id had ended by then, so any later change has txid >= since.
`scope` lists the students in scope at that pull (to send newcomers whole and to name
the ones that left). While paging, `page` is (section, last key txid, last id) and
`next_since` the xmin taken at the first page. It is opaque to clients; a cursor that
does not decode is a full pull.
"""

from __future__ import annotations

import base64
import binascii

import msgspec


class Cursor(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    v: int = 1
    since: int = 0
    scope: list[int] = []
    next_since: int | None = None
    page: tuple[int, int, str] | None = None


START = Cursor()


def encode(cursor: Cursor) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def decode(text: str | None) -> Cursor:
    if not text:
        return START
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = msgspec.json.decode(raw, type=Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return START
    if cursor.v != 1 or cursor.since < 0:
        return START
    return cursor
