"""HTTP routes of the review domain."""

from typing import Any

ROUTES: list[Any] = []
