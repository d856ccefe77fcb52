"""A device's name as people read it: "Pixel 8 · Chrome", "iPhone · Safari".

Today's user-agent strings no longer carry the phone's model (Chrome on Android sends
"Android 10; K" whatever the phone), so the app asks the browser for it where it can
(User-Agent Client Hints: model, platform) when it registers as a sync client, and the
name falls back to the system and browser read from the user agent. Pure functions; the
stored label is short plain text, never the raw user agent.
"""

from __future__ import annotations

import re

MAX_LABEL = 60
MAX_PART = 32

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "Mac"),
    ("Mac OS X", "Mac"),
    ("Linux", "Linux"),
)
# What Client Hints call a platform, as people say it.
_PLATFORMS = {"macos": "Mac", "chrome os": "ChromeOS", "chromium os": "ChromeOS"}
# "(Linux; Android 13; SM-S911B Build/TP1A...)": the model, in older user agents.
_ANDROID_MODEL = re.compile(r"Android [\d.]+; ([^;)]+?)(?: Build/[^;)]*)?[;)]")
_REDUCED_MODELS = {"", "K", "wv"}


def _plain(text: str, limit: int = MAX_PART) -> str:
    """Printable text on one line, at most `limit` characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:limit].strip()


def browser_name(user_agent: str) -> str:
    for token, name in _BROWSERS:
        if token in user_agent:
            return name
    return ""


def system_name(user_agent: str) -> str:
    match = _ANDROID_MODEL.search(user_agent)
    if match and match.group(1).strip() not in _REDUCED_MODELS:
        return _plain(match.group(1))
    for token, name in _SYSTEMS:
        if token in user_agent:
            return name
    return ""


def device_label(user_agent: str, *, model: str = "", platform: str = "") -> str:
    """The label of a device: its model (or system) and its browser, e.g. "Pixel 8 ·
    Chrome". `model` and `platform` are the browser's client hints, when it gave them."""
    user_agent = user_agent[:1000]
    device = _plain(model)
    if not device:
        hinted = _plain(platform)
        device = _PLATFORMS.get(hinted.lower(), hinted) or system_name(user_agent)
    browser = browser_name(user_agent)
    label = " · ".join(part for part in (device, browser) if part)
    return label[:MAX_LABEL] or "Unknown device"


def shown_label(stored: str) -> str:
    """A stored label as people read it: devices registered before labels were named
    still hold the raw user agent."""
    if stored.startswith("Mozilla/") or "AppleWebKit" in stored:
        return device_label(stored)
    return _plain(stored, MAX_LABEL) or "Unknown device"
