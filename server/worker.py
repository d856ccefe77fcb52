"""Background work that runs inside the app process by default (the notification sender).

A production deployment runs it as separate `worker` processes instead; see notify/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.settings import Settings


def in_process_hooks(settings: Settings) -> tuple[list[Callable[[], Any]], list[Callable[[], Any]]]:
    """(on_startup, on_shutdown) hooks for the app: none until notify/ registers its worker."""
    return [], []
