"""HTTP routes of the messages domain."""

from typing import Any

ROUTES: list[Any] = []
