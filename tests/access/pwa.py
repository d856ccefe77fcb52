"""Access entries for the installable app's static entry points (public by design:
they hold no user data; the data arrives through /api/sync after login)."""

from __future__ import annotations

from tests.access.spec import Entry, Req

ENTRIES = [
    Entry("GET", "/sw.js", lambda c, s: Req("/sw.js"), scoped=False, anonymous=200),
    # The app's words (public, like the shell: it starts offline before anyone logs in).
    Entry(
        "GET",
        "/i18n/{name:str}",
        lambda c, s: Req("/i18n/es.json"),
        scoped=False,
        anonymous=200,
    ),
    Entry(
        "GET",
        "/manifest.webmanifest",
        lambda c, s: Req("/manifest.webmanifest"),
        scoped=False,
        anonymous=200,
    ),
    Entry("GET", "/app", lambda c, s: Req("/app"), scoped=False, anonymous=200, html=True),
    Entry(
        "GET",
        "/app/{path:path}",
        lambda c, s: Req("/app/student/1"),
        scoped=False,
        anonymous=200,
        html=True,
    ),
]
