"""create_app(): wiring only. Routers, middleware, templates, lifespan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.middleware import DefineMiddleware
from litestar.template.config import TemplateConfig

from server import bodies, db, i18n, pwa_routes
from server.auth import routes as auth_routes
from server.auth.sessions import SessionMiddleware
from server.errors import EXCEPTION_HANDLERS
from server.iep import routes as iep_routes
from server.messages import routes as messages_routes
from server.middleware import InputGuard, security_headers_hook
from server.notify import routes as notify_routes
from server.openapi import document_errors, openapi_config
from server.progress import routes as progress_routes
from server.review import routes as review_routes
from server.roster import routes as roster_routes
from server.settings import ROOT, Settings, get_settings
from server.sync import routes as sync_routes

TEMPLATES_DIR = ROOT / "server" / "templates"
SYNC_MAX_BODY_BYTES = 256 * 1024 + 16 * 1024  # 256 KiB of ops plus the envelope

ROUTE_MODULES = [
    auth_routes,
    roster_routes,
    iep_routes,
    sync_routes,
    review_routes,
    progress_routes,
    messages_routes,
    notify_routes,
    pwa_routes,
]


def all_routes() -> list[Any]:
    return [route for module in ROUTE_MODULES for route in module.ROUTES]


def create_app(
    settings: Settings | None = None,
    *,
    secret: str,
    on_startup: Sequence[Callable[[], Any]] = (),
    on_shutdown: Sequence[Callable[[], Any]] = (),
) -> Litestar:
    """The application. `secret` signs CSRF tokens; it is shared by every process
    through the database (see cli.bootstrap)."""
    s = settings or get_settings()
    routes = all_routes()
    document_errors(routes)
    app = Litestar(
        route_handlers=routes,
        middleware=[
            DefineMiddleware(
                cast(Any, InputGuard),
                max_body=s.max_body_bytes,
                path_limits={"/api/sync": SYNC_MAX_BODY_BYTES},
            ),
            cast(Any, SessionMiddleware),
        ],
        csrf_config=CSRFConfig(
            secret=secret,
            cookie_name="tandem_csrf",
            header_name="x-csrf-token",
            cookie_secure=s.secure_cookies,
            cookie_samesite="lax",
        ),
        template_config=TemplateConfig(
            directory=TEMPLATES_DIR,
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: i18n.setup_jinja(engine.engine),
        ),
        before_send=[cast(Any, security_headers_hook(hsts=s.base_url.startswith("https://")))],
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[db.start_pool, *on_startup],
        on_shutdown=[*on_shutdown, db.close_pool],
        openapi_config=openapi_config(),
        request_max_body_size=s.max_body_bytes,
        request_class=bodies.StrictJsonRequest,
    )
    bodies.check_routes(app)
    return app
