"""HTTP routes of the iep domain."""

from typing import Any

ROUTES: list[Any] = []
