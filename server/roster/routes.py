"""HTTP routes of the roster domain."""

from typing import Any

ROUTES: list[Any] = []
