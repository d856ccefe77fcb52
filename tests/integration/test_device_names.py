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


def test_admin_device_list_names_devices_in_local_time(
    base_url: str, classroom: Classroom, sql: psycopg.Connection[Any], client_for: Any
) -> None:
    # A device registered before devices were named still holds its raw user agent.
    sql.execute(
        "INSERT INTO device (school_id, user_id, token_hash, label, last_seen_at) "
        "VALUES (%s, %s, %s, %s, '2026-11-30 15:00+00')",
        (classroom.aide.school_id, classroom.aide.id, b"x" * 32, CHROME_ANDROID),
    )
    html = client_for(classroom.admin).get("/admin/devices", headers={"accept": "text/html"}).text
    assert "Android · Chrome" in html
    assert "Mozilla/" not in html
    assert "UTC" not in html
    assert "Nov 30, 2026, 9:00" in html  # the school is in Chicago
