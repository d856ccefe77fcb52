"""Form bodies of the parent's pages."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

Csrf = Annotated[str, Meta(max_length=200)]
Clock = Annotated[str, Meta(max_length=5, pattern=r"^$|^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Mode = Annotated[str, Meta(pattern=r"^(immediate|daily|weekly)$")]
Lang = Annotated[str, Meta(pattern=r"^(en|es)$")]
Zone = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]


class SettingsForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    notify_mode: Mode
    language: Lang
    timezone: Zone
    quiet_start: Clock = ""
    quiet_end: Clock = ""
    csrf_token: Csrf = msgspec.field(default="", name="_csrf_token")
