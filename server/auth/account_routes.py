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

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your account",
        "heading": "Your account",
        "intro": "What happened to your account recently. If you did not expect something "
        "here, tell your school at once.",
        "none": "Nothing has happened to your account.",
        "reset_link_made": "A password link was made for you by {actor}.",
        "reset_link_made_anonymous": "A password link was made for you by your school.",
        "password_reset": "Your password was changed with a password link.",
        "new": "New",
        "seen": "I have read this",
        "home": "Back",
    },
    "es": {
        "title": "Su cuenta",
        "heading": "Su cuenta",
        "intro": "Lo que ha pasado con su cuenta últimamente. Si algo aquí no lo esperaba, "
        "avise a la escuela de inmediato.",
        "none": "No ha pasado nada con su cuenta.",
        "reset_link_made": "{actor} creó un enlace para cambiar su contraseña.",
        "reset_link_made_anonymous": "La escuela creó un enlace para cambiar su contraseña.",
        "password_reset": "Su contraseña se cambió con un enlace de contraseña.",
        "new": "Nuevo",
        "seen": "Ya lo leí",
        "home": "Volver",
    },
}


def notice_text(kind: str, actor_name: str | None, language: str) -> str:
    t = TEXTS.get(language, TEXTS["en"])
    if kind == "reset_link_made":
        if actor_name:
            return t["reset_link_made"].format(actor=actor_name)
        return t["reset_link_made_anonymous"]
    return t["password_reset"]


@get("/account", guards=[authenticated], include_in_schema=False)
async def account_page(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    language = user.language if user.language in TEXTS else "en"
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
        context={"me": user, "lang": language, "a": TEXTS[language], "notices": rows},
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
