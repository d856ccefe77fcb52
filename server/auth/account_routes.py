"""The person's own account page: what happened to the account (auth/notices.py), and
the language and time zone every role reads the app in."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Meta

from server import i18n
from server.auth import notices, service
from server.auth.guards import authenticated, current_user
from server.auth.schemas import AccountNoticeOut, CsrfOnlyForm
from server.i18n import tr


def notice_text(kind: str, actor_name: str | None, code: str) -> str:
    if kind == "reset_link_made":
        if actor_name:
            return tr(code, "A password link was made for you by %(actor)s.") % {
                "actor": actor_name
            }
        return tr(code, "A password link was made for you by your school.")
    return tr(code, "Your password was changed with a password link.")


class AccountSettingsForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    language: Literal["en", "es"]
    timezone: Annotated[str, Meta(min_length=1, max_length=64)]
    csrf_token: Annotated[str, Meta(max_length=200)] = msgspec.field(default="", name="_csrf_token")


@get("/account", guards=[authenticated], include_in_schema=False)
async def account_page(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    reader = await service.reader(user.id)
    language = reader["lang"]
    rows = [
        {
            "text": notice_text(n.kind, n.actor_name, language),
            "when": i18n.when(n.at, language, reader["tz"]),
            "at": n.at.isoformat(),
            "seen": n.seen,
        }
        for n in await notices.for_user(user.id)
    ]
    return Template(
        template_name="auth/account.html.j2",
        context={
            "me": user,
            **reader,
            "notices": rows,
            "saved": request.query_params.get("saved") == "1",
            "timezones": i18n.zone_choices(language, reader["tz"]),
        },
    )


@post("/account/settings", guards=[authenticated], include_in_schema=False)
async def account_settings(
    request: Request[Any, Any, Any],
    data: Annotated[AccountSettingsForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    """Anyone's language (the app and the pages speak it) and time zone."""
    await service.save_reader(current_user(request), language=data.language, timezone=data.timezone)
    return Redirect(path="/account?saved=1")


@post("/account/notices/seen", guards=[authenticated], include_in_schema=False)
async def account_notices_seen(
    request: Request[Any, Any, Any],
    data: Annotated[CsrfOnlyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    await notices.mark_seen(current_user(request).id)
    return Redirect(path="/account")


@get("/api/account/notices", guards=[authenticated], tags=["auth"])
async def account_notices(request: Request[Any, Any, Any]) -> list[AccountNoticeOut]:
    """What happened to the caller's account (newest first), in the caller's language."""
    user = current_user(request)
    return [
        AccountNoticeOut(
            id=n.id,
            kind=n.kind,
            at=n.at,
            text=notice_text(n.kind, n.actor_name, user.language),
            seen=n.seen,
        )
        for n in await notices.for_user(user.id)
    ]


ROUTES = [account_page, account_settings, account_notices_seen, account_notices]
