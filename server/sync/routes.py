"""HTTP routes of the sync domain."""

from typing import Any

ROUTES: list[Any] = []
