"""What a push notification says. It shows on lock screens: a first name at most, never
a surname or any record content. The note itself opens inside the app after login.

The payload is the JSON the service worker (pwa/sw.js) expects:
{"id": <notification id>, "title": ..., "body": ..., "url": <page in the app>}.
"""

from __future__ import annotations

import msgspec

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "progress_note": ("New progress note", "{first}'s teacher shared an update."),
        "message": ("New message", "You have a new message about {first}."),
        "digest_one": ("Updates from school", "You have 1 new update."),
        "digest_many": ("Updates from school", "You have {count} new updates."),
    },
    "es": {
        "progress_note": (
            "Nueva nota de progreso",
            "El equipo docente de {first} compartió una novedad.",
        ),
        "message": ("Nuevo mensaje", "Tiene un mensaje nuevo sobre {first}."),
        "digest_one": ("Novedades de la escuela", "Tiene 1 novedad."),
        "digest_many": ("Novedades de la escuela", "Tiene {count} novedades."),
    },
}


class Payload(msgspec.Struct, frozen=True):
    id: str
    title: str
    body: str
    url: str


def compose(
    *, notification_id: str, kind: str, language: str, first_name: str, url: str, count: int = 1
) -> Payload:
    texts = TEXTS.get(language, TEXTS["en"])
    key = kind if kind != "digest" else ("digest_one" if count == 1 else "digest_many")
    title, body = texts[key]
    return Payload(
        id=notification_id,
        title=title,
        body=body.format(first=first_name, count=count),
        url=url,
    )


def encode(payload: Payload) -> bytes:
    return msgspec.json.encode(payload)
