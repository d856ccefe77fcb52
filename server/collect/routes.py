"""HTTP routes of the collect domain."""

from typing import Any

ROUTES: list[Any] = []
