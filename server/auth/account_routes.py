"""The person's own account page: what happened to the account (auth/notices.py)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from server import i18n
from server.auth import notices
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


@get("/account", guards=[authenticated], include_in_schema=False)
async def account_page(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    language = i18n.language(user.language)
    rows = [
        {
            "text": notice_text(n.kind, n.actor_name, language),
            "when": i18n.when(n.at, language, user.timezone),
            "at": n.at.isoformat(),
            "seen": n.seen,
        }
        for n in await notices.for_user(user.id)
    ]
    return Template(
        template_name="auth/account.html.j2",
        context={"me": user, "lang": language, "notices": rows},
    )


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


ROUTES = [account_page, account_notices_seen, account_notices]
