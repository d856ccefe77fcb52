#!/bin/sh
# The database tests also run on a PostgreSQL 15 server (DATABASE_URL-style URL in $1).
# Set TANDEM_SKIP_PG15=1 to skip this leg on purpose; it never skips silently.
if [ "$TANDEM_SKIP_PG15" = "1" ]; then
  echo "TANDEM_SKIP_PG15=1: skipping the PostgreSQL 15 leg on request." >&2
  exit 0
fi
if ! .venv/bin/python - "$1" <<'PY'
import asyncio, sys
import asyncpg
async def main() -> None:
    conn = await asyncpg.connect(sys.argv[1], timeout=5)
    print("PostgreSQL leg:", await conn.fetchval("SHOW server_version"))
    await conn.close()
asyncio.run(main())
PY
then
  echo "No PostgreSQL answers at $1. Start one (or set PG15_URL), or set TANDEM_SKIP_PG15=1." >&2
  exit 1
fi
