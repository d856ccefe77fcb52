"""Reading the session cookie from raw Cookie headers."""

from __future__ import annotations

import pytest

from server.auth.sessions import read_cookie


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"cookie", b"tandem_session=abc")], "abc"),
        ([(b"cookie", b"a=1; tandem_session=abc-_9; b=2")], "abc-_9"),
        ([(b"cookie", b'tandem_session="quoted"')], "quoted"),
        ([(b"cookie", b"tandem_sessionx=no; xtandem_session=no")], None),
        ([(b"cookie", b"a=1"), (b"cookie", b"tandem_session=second")], "second"),
        ([(b"cookie", b"tandem_session=first; tandem_session=again")], "first"),
        ([(b"cookie", b"garbage;;; =; tandem_session")], None),
        ([(b"cookie", b"tandem_session=")], ""),
        ([(b"cookie", "tandem_session=é".encode("latin-1"))], "é"),
        ([(b"x-other", b"tandem_session=abc")], None),
        ([], None),
    ],
)
def test_the_session_cookie_is_read_from_any_cookie_header(
    headers: list[tuple[bytes, bytes]], expected: str | None
) -> None:
    assert read_cookie({"headers": headers}, "tandem_session") == expected
