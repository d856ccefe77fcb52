"""Access entries for push subscriptions and notification preferences (any signed-in
user; nothing about a particular student)."""

from __future__ import annotations

from tests.access.spec import Entry, Req

# The matrix's app server allows only the real push services, so a plain-http endpoint
# is refused with 400 for every signed-in role (the push tests subscribe for real).
INSECURE = {
    "endpoint": "http://127.0.0.1:5432/push",
    "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
}
PREFS = {
    "notify_mode": "daily",
    "language": "en",
    "timezone": "America/Chicago",
    "quiet_start": "21:00",
    "quiet_end": "07:00",
}

ENTRIES = [
    Entry("GET", "/api/push/key", lambda c, s: Req("/api/push/key"), scoped=False),
    Entry(
        "POST",
        "/api/push/subscriptions",
        lambda c, s: Req("/api/push/subscriptions", json=INSECURE),
        scoped=False,
        ok=400,
    ),
    Entry(
        "POST",
        "/api/push/subscriptions/remove",
        lambda c, s: Req(
            "/api/push/subscriptions/remove", json={"endpoint": "https://fcm.googleapis.com/x"}
        ),
        scoped=False,
    ),
    Entry(
        "GET", "/api/notify/preferences", lambda c, s: Req("/api/notify/preferences"), scoped=False
    ),
    Entry(
        "PUT",
        "/api/notify/preferences",
        lambda c, s: Req("/api/notify/preferences", json=PREFS),
        scoped=False,
    ),
]
