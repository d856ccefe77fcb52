"""Pure notification rules: quiet hours and digests in the recipient's zone, endpoint
allow-listing, Retry-After parsing, and what a payload may say."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from server.notify.endpoints import EndpointRefused, check_static
from server.notify.payload import compose
from server.notify.schedule import Preferences, deliver_at, in_quiet_hours
from server.notify.sender import parse_retry_after

CHICAGO = "America/Chicago"


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_quiet_hours_wrap_midnight() -> None:
    assert in_quiet_hours(time(23), time(21), time(7))
    assert in_quiet_hours(time(6, 59), time(21), time(7))
    assert not in_quiet_hours(time(7), time(21), time(7))
    assert in_quiet_hours(time(13), time(12), time(14))
    assert not in_quiet_hours(time(13), None, None)
    assert not in_quiet_hours(time(13), time(9), time(9))


def test_immediate_outside_quiet_hours_is_now_and_inside_waits_for_their_end() -> None:
    prefs = Preferences("immediate", time(21), time(7), CHICAGO)
    noon = utc(2026, 11, 30, 18)  # 12:00 in Chicago
    assert deliver_at(noon, prefs) == noon
    # 22:30 in Chicago -> 07:00 the next morning, Chicago time (13:00 UTC in winter).
    assert deliver_at(utc(2026, 12, 1, 4, 30), prefs) == utc(2026, 12, 1, 13)
    # Same instant, recipient in Madrid (05:30 there, inside 21-07) -> 07:00 Madrid.
    madrid = Preferences("immediate", time(21), time(7), "Europe/Madrid")
    assert deliver_at(utc(2026, 12, 1, 4, 30), madrid) == utc(2026, 12, 1, 6)


def test_digests_wait_for_their_slot_and_respect_quiet_hours() -> None:
    daily = Preferences("daily", None, None, CHICAGO)
    assert deliver_at(utc(2026, 11, 30, 15), daily) == utc(2026, 11, 30, 23)  # 17:00 local
    assert deliver_at(utc(2026, 12, 1, 0), daily) == utc(2026, 12, 1, 23)  # after 17:00: tomorrow
    weekly = Preferences("weekly", None, None, CHICAGO)
    assert deliver_at(utc(2026, 11, 30, 15), weekly) == utc(2026, 12, 4, 23)  # Friday 17:00
    quiet_at_five = Preferences("daily", time(16), time(18), CHICAGO)
    assert deliver_at(utc(2026, 11, 30, 15), quiet_at_five) == utc(2026, 12, 1, 0)  # 18:00


def test_unknown_zone_falls_back_to_utc() -> None:
    prefs = Preferences("immediate", time(21), time(7), "Not/AZone")
    assert deliver_at(utc(2026, 11, 30, 22), prefs) == utc(2026, 12, 1, 7)


HOSTS = ("fcm.googleapis.com", "*.push.apple.com", "127.0.0.1:9999")


@pytest.mark.parametrize(
    "url",
    [
        "http://fcm.googleapis.com/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest",
        "http://localhost:5432/",
        "http://127.0.0.1:5432/x",
        "https://push.apple.com.evil.example/x",
        "https://push.apple.com/x",
        "https://u:p@fcm.googleapis.com/x",
        "https://fcm.googleapis.com:8443/x",
        "ftp://fcm.googleapis.com/x",
        "https://[::1]/x",
    ],
)
def test_endpoints_refused(url: str) -> None:
    with pytest.raises(EndpointRefused):
        check_static(url, allowed_hosts=HOSTS, allow_insecure_local=True)


def test_endpoints_allowed() -> None:
    assert (
        check_static(
            "https://fcm.googleapis.com/fcm/send/a", allowed_hosts=HOSTS, allow_insecure_local=False
        ).audience
        == "https://fcm.googleapis.com"
    )
    assert (
        check_static(
            "https://web.push.apple.com/QX", allowed_hosts=HOSTS, allow_insecure_local=False
        ).host
        == "web.push.apple.com"
    )
    local = check_static(
        "http://127.0.0.1:9999/push/t", allowed_hosts=HOSTS, allow_insecure_local=True
    )
    assert local.audience == "http://127.0.0.1:9999"
    with pytest.raises(EndpointRefused):  # the test-only setting is off in production
        check_static(
            "http://127.0.0.1:9999/push/t", allowed_hosts=HOSTS, allow_insecure_local=False
        )


def test_retry_after_seconds_or_date_clamped() -> None:
    now = utc(2026, 11, 30, 12)
    assert parse_retry_after("120", now=now) == 120
    assert parse_retry_after("Mon, 30 Nov 2026 12:05:00 GMT", now=now) == 300
    assert parse_retry_after("0", now=now) == 1
    assert parse_retry_after("99999999", now=now) == 24 * 3600
    assert parse_retry_after("soon", now=now) == 60
    assert parse_retry_after(None, now=now) == 60


def test_payload_is_first_name_only_in_the_recipients_language() -> None:
    en = compose(
        notification_id="a" * 32,
        kind="progress_note",
        language="en",
        first_name="Maya",
        url="/parent/notes/1",
    )
    assert (en.title, en.body) == ("New progress note", "Maya's teacher shared an update.")
    es = compose(
        notification_id="a" * 32, kind="message", language="es", first_name="Maya", url="/x"
    )
    assert (es.title, es.body) == ("Nuevo mensaje", "Tiene un mensaje nuevo sobre Maya.")
    digest = compose(
        notification_id="b" * 32,
        kind="digest",
        language="fr",
        first_name="",
        url="/parent",
        count=3,
    )
    assert digest.body == "You have 3 new updates."  # unknown language: English
