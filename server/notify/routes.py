"""HTTP routes of the notify domain."""

from typing import Any

ROUTES: list[Any] = []
