"""Devices are named for people ("Pixel 8 · Chrome"): from the user agent at login, and
from the browser's client hints when the app registers as a sync client."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.support.client import ApiClient
from tests.support.factories import Classroom
from tests.unit.test_device_label import CHROME_ANDROID, FIREFOX_WINDOWS


def _label(sql: psycopg.Connection[Any], user_id: int) -> str:
    row = sql.execute(
        "SELECT label FROM device WHERE user_id = %s ORDER BY id DESC LIMIT 1", (user_id,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_login_names_the_device_from_the_user_agent(
    base_url: str, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    with ApiClient(base_url, headers={"user-agent": FIREFOX_WINDOWS}) as c:
        c.login(classroom.teacher.email)
    assert _label(sql, classroom.teacher.id) == "Windows · Firefox"


def test_client_hints_name_the_phone(
    base_url: str, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    with ApiClient(base_url, headers={"user-agent": CHROME_ANDROID}) as c:
        c.login(classroom.aide.email)
        assert _label(sql, classroom.aide.id) == "Android · Chrome"
        hints = {"model": "Pixel 8", "platform": "Android", "platform_version": "14.0.0"}
        r = c.post("/api/sync/clients", json={"app_version": "1", "device": hints})
        assert r.status_code == 201, r.text
        assert _label(sql, classroom.aide.id) == "Pixel 8 · Chrome"
        # Without hints (Safari, Firefox) the label stays what the user agent says.
        assert c.post("/api/sync/clients", json={"app_version": "1"}).status_code == 201
        assert _label(sql, classroom.aide.id) == "Pixel 8 · Chrome"
        too_long = c.post(
            "/api/sync/clients", json={"device": {"model": "x" * 101}, "app_version": "1"}
        )
        assert too_long.status_code == 400
        unknown = c.post("/api/sync/clients", json={"device": {"serial": "123"}})
        assert unknown.status_code == 400
