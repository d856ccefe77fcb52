"""Publishing a progress note as the teacher's page does: with the digest of the preview
the teacher was shown (server/progress/compose.py)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
import psycopg

from server.collect.summary import summarise
from server.progress.compose import compose_all, digest

DIGEST = re.compile(r'name="preview_digest" value="([0-9a-f]*)"')


def shown_digest(teacher: httpx.Client, student_id: int) -> str:
    """The digest on the composer page, as the browser would post it back."""
    page = teacher.get(
        f"/teacher/review/students/{student_id}/notes", headers={"accept": "text/html"}
    )
    found = DIGEST.search(page.text)
    return found.group(1) if found else ""


def publish_form(
    teacher: httpx.Client,
    student_id: int,
    session_ids: Sequence[uuid.UUID | str],
    comment: str = "",
    **headers: str,
) -> httpx.Response:
    """Look at the preview, then publish these sessions with its digest."""
    return teacher.post(
        f"/teacher/review/students/{student_id}/notes",
        data={
            "session_id": [str(s) for s in session_ids],
            "comment": comment,
            "preview_digest": shown_digest(teacher, student_id),
        },
        headers=headers or None,
    )


def expected_digest(
    sql: psycopg.Connection[Any], student_id: int, session_ids: Sequence[uuid.UUID]
) -> str:
    """The digest a preview of exactly these sessions shows, computed by the server's own
    code on the test's database (for callers with no logged-in page to read it from)."""

    async def compute() -> str:
        info = sql.info
        conn = await asyncpg.connect(
            host=info.host,
            port=info.port,
            user=info.user,
            password=info.password or None,
            database=info.dbname,
        )
        try:
            summary = await summarise(conn, student_id, list(session_ids))
            zone = await conn.fetchval(
                "SELECT s.timezone FROM school s JOIN student st ON st.school_id = s.id"
                " WHERE st.id = $1",
                student_id,
            )
            return digest(compose_all(summary, str(zone)))
        finally:
            await conn.close()

    return asyncio.run(compute())
