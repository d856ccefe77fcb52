"""HTTP routes of the progress domain."""

from typing import Any

ROUTES: list[Any] = []
