"""Device names from real user-agent strings and client hints."""

from __future__ import annotations

import pytest

from server.auth.devices import MAX_LABEL, device_label, shown_label

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_OLD = (
    "Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("user_agent", "hints", "label"),
    [
        (CHROME_ANDROID, {"model": "Pixel 8", "platform": "Android"}, "Pixel 8 · Chrome"),
        (CHROME_ANDROID, {}, "Android · Chrome"),
        (CHROME_ANDROID, {"model": "", "platform": "Android"}, "Android · Chrome"),
        (CHROME_ANDROID_OLD, {}, "SM-S911B · Chrome"),
        (SAFARI_IPHONE, {}, "iPhone · Safari"),
        (CHROME_IPHONE, {}, "iPhone · Chrome"),
        (FIREFOX_WINDOWS, {}, "Windows · Firefox"),
        (FIREFOX_LINUX, {}, "Linux · Firefox"),
        (EDGE_WINDOWS, {"model": "", "platform": "Windows"}, "Windows · Edge"),
        (SAFARI_MAC, {}, "Mac · Safari"),
        (SAFARI_MAC, {"platform": "macOS"}, "Mac · Safari"),
        ("", {}, "Unknown device"),
        ("curl/8.5.0", {}, "Unknown device"),
    ],
)
def test_device_label(user_agent: str, hints: dict[str, str], label: str) -> None:
    assert device_label(user_agent, **hints) == label


def test_label_is_short_plain_text() -> None:
    label = device_label(CHROME_ANDROID, model="<script>\x00" + "x" * 500 + "\nPixel")
    assert len(label) <= MAX_LABEL
    assert "\x00" not in label
    assert "\n" not in label
    assert label.endswith("· Chrome")


def test_stored_user_agents_are_shown_named() -> None:
    assert shown_label(CHROME_ANDROID) == "Android · Chrome"
    assert shown_label("Pixel 8 · Chrome") == "Pixel 8 · Chrome"
    assert shown_label("") == "Unknown device"
