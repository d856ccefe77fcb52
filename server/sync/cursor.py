"""The pull cursor: where the last pull stopped, safe under out-of-order commits.

`since` is pg_snapshot_xmin(pg_current_snapshot()) of the pull that produced it: every
transaction with a lower id had ended by then, so any later change has txid >= since.
`snap` is that whole snapshot ("xmin:xmax:xip,…"): a row whose transaction was already
visible in it was sent by that pull, so only rows NOT visible in it are sent again. That
makes deltas exact (no re-sends) even while unrelated long transactions hold xmin back;
with no `snap` (or one too large to carry) the pull falls back to `txid >= since`, which
can only re-send, never skip. `scope` lists the students in scope at that pull (to send
newcomers whole and to name the ones that left). While paging, `page` is (section, last
key txid, last id), and `next_since` / `next_snap` the snapshot taken at the first page.
It is opaque to clients; a cursor that does not decode is a full pull.
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
    snap: str | None = None
    next_snap: str | None = None


# A snapshot lists the transactions in progress when it was taken; past this many the
# cursor carries only xmin (a bounded cursor; the pull may then re-send, never skip).
MAX_SNAPSHOT_CHARS = 4000


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
    for snap in (cursor.snap, cursor.next_snap):
        if snap is not None and not valid_snapshot(snap):
            return START
    return cursor


def valid_snapshot(text: str) -> bool:
    """'xmin:xmax:xip,…' with decimal ids, as pg_current_snapshot()::text prints it."""
    parts = text.split(":")
    if len(parts) != 3 or len(text) > MAX_SNAPSHOT_CHARS:
        return False
    xmin, xmax, xip = parts
    ids = [xmin, xmax, *(xip.split(",") if xip else [])]
    return all(i.isdigit() and len(i) <= 20 for i in ids)
