"""No request pays a worker-thread hop for work that never blocks.

Litestar runs plain-function guards, dependencies and handlers in a thread pool
(`sync_to_thread`). A guard that only reads the connection's scope costs nanoseconds;
the hop costs a context switch and a GIL handover on every request, measured as a
visible share of a 1-op sync under load (bench/README.md)."""

from __future__ import annotations

import inspect

from litestar.routes import HTTPRoute


def test_guards_dependencies_and_handlers_stay_on_the_event_loop() -> None:
    from server.app import create_app

    app = create_app(secret="thread-hops")
    offenders: list[str] = []
    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            checked += 1
            where = f"{sorted(handler.http_methods)} {route.path}"
            for guard in handler.resolve_guards():
                if not inspect.iscoroutinefunction(guard):
                    offenders.append(f"{where}: guard {getattr(guard, '__name__', guard)}")
            for key, provider in handler.resolve_dependencies().items():
                if provider.has_sync_callable and provider.sync_to_thread:
                    offenders.append(f"{where}: dependency {key}")
            if handler.has_sync_callable and getattr(handler, "sync_to_thread", False):
                offenders.append(f"{where}: handler {handler.handler_name}")
    assert checked > 100
    assert not offenders, offenders
