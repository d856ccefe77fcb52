"""Access entries for the sync endpoints: any logged-in user may register a client and
sync (parents send messages); per-student rules are judged per op (tests/integration/
test_sync_security.py), so these routes are about no particular student."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.access.spec import Ctx, Entry, Req, Scope


def _sync(ctx: Ctx, scope: Scope) -> Req:
    user = ctx.user()
    client_id = uuid.uuid4()
    if user is not None:
        ctx.sql.execute(
            "INSERT INTO sync_client (client_id, school_id, user_id) VALUES (%s, %s, %s)",
            (client_id, user.school_id, user.id),
        )
    body = {
        "protocol": 1,
        "client_id": str(client_id),
        "sent_at": datetime.now(UTC).isoformat(),
        "ops": [],
        "pull": False,
    }
    return Req("/api/sync", json=body)


ENTRIES = [
    Entry(
        "POST",
        "/api/sync/clients",
        lambda c, s: Req("/api/sync/clients", json={"app_version": "1"}),
        scoped=False,
        ok=201,
    ),
    Entry("POST", "/api/sync", _sync, scoped=False),
]
