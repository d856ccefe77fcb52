"""The cookies a fresh session sets: the session itself and, for a new device, its token."""

from __future__ import annotations

from litestar.datastructures import Cookie

from server.auth.service import LoginResult
from server.auth.sessions import DEVICE_COOKIE, SESSION_COOKIE
from server.settings import get_settings

DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600


def login_cookies(result: LoginResult) -> list[Cookie]:
    s = get_settings()
    cookies = [
        Cookie(
            key=SESSION_COOKIE,
            value=result.session_token,
            httponly=True,
            secure=s.secure_cookies,
            samesite="lax",
            path="/",
            max_age=s.session_absolute_hours * 3600,
        )
    ]
    if result.device_token:
        cookies.append(
            Cookie(
                key=DEVICE_COOKIE,
                value=result.device_token,
                httponly=True,
                secure=s.secure_cookies,
                samesite="lax",
                path="/",
                max_age=DEVICE_COOKIE_MAX_AGE,
            )
        )
    return cookies
