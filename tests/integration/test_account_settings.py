"""Every role chooses the language and time zone the app speaks to them in (the aide's
app and staff pages too), from lists; bad values change nothing."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.support.factories import Classroom

PAGE = {"accept": "text/html"}


def test_an_aide_chooses_spanish_and_a_time_zone_from_a_list(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    aide = client_for(classroom.aide)
    page = aide.get("/account", headers=PAGE).text
    assert '<select id="timezone"' in page
    done = aide.post(
        "/account/settings",
        data={"language": "es", "timezone": "America/Los_Angeles"},
        headers=PAGE,
    )
    assert done.status_code in (302, 303)
    me = aide.get("/api/me").json()
    assert (me["language"], me["timezone"]) == ("es", "America/Los_Angeles")
    page = aide.get("/account?saved=1", headers=PAGE).text
    assert "Sus ajustes se guardaron." in page
    assert "Idioma y zona horaria" in page
    assert "Cerrar sesión" in page
    before = sql.execute(
        "SELECT language, timezone FROM app_user WHERE id = %s", (classroom.aide.id,)
    ).fetchone()
    for bad in (
        {"language": "fr", "timezone": "America/Chicago"},
        {"language": "en", "timezone": "Mars/Olympus"},
        {"language": "en", "timezone": "x" * 65},
    ):
        assert aide.post("/account/settings", data=bad, headers=PAGE).status_code == 400
    after = sql.execute(
        "SELECT language, timezone FROM app_user WHERE id = %s", (classroom.aide.id,)
    ).fetchone()
    assert after == before
