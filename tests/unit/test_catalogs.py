"""Every word a person reads has a translation: each msgid the server, the templates or
the PWA use (extracted as `make i18n` does) is translated in every catalog, every plural
form filled, with the same placeholders as the English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from configparser import ConfigParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from server import i18n

ROOT = Path(__file__).resolve().parents[2]
# The keywords of the Makefile's i18n target.
KEYWORDS = {**DEFAULT_KEYWORDS, "tr": (2,), "trn": (2, 3), "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_messages() -> Iterator[tuple[str, ...]]:
    config = ConfigParser()
    config.read(ROOT / "babel.cfg")
    method_map = []
    options_map = {}
    for section in config.sections():
        method, pattern = (part.strip() for part in section.split(":", 1))
        method_map.append((pattern, method))
        options_map[pattern] = dict(config.items(section))
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        yield message if isinstance(message, tuple) else (message,)


USED = sorted(set(used_messages()))
CATALOGS = [code for code in i18n.LANGUAGES if code != i18n.SOURCE_LANGUAGE]


def test_the_sources_use_messages() -> None:
    assert len(USED) > 50


@pytest.mark.parametrize("code", CATALOGS)
def test_every_message_used_is_translated(code: str) -> None:
    with i18n.po_path(code).open("rb") as f:
        catalog = read_po(f, locale=code)
    problems = []
    for ids in USED:
        entry = catalog.get(ids[0])
        if entry is None or entry.fuzzy:
            problems.append(f"missing: {ids[0]!r}")
            continue
        forms = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        if len(ids) > 1 and len(forms) != catalog.num_plurals:
            problems.append(f"plural forms: {ids[0]!r}")
        if not all(forms):
            problems.append(f"untranslated: {ids[0]!r}")
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for form in forms:
            if form and set(PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} -> {form!r}")
    assert not problems, "\n".join(problems)


def test_the_pwa_catalog_carries_plural_categories_in_gettext_order() -> None:
    spanish = i18n.json_catalog("es")
    assert spanish["plural_tags"] == ["one", "many", "other"]
    assert spanish["messages"]["%(n)s session"] == [
        "%(n)s sesión",
        "%(n)s de sesiones",
        "%(n)s sesiones",
    ]
    assert i18n.trn("es", "%(n)s session", "%(n)s sessions", 3) == "%(n)s sesiones"
    assert i18n.trn("es", "%(n)s session", "%(n)s sessions", 1) == "%(n)s sesión"
    assert i18n.tr("es", "Log out") == "Cerrar sesión"
    assert i18n.tr("en", "Log out") == "Log out"


@pytest.mark.parametrize("code", CATALOGS)
def test_no_message_can_break_the_markup_it_lands_in(code: str) -> None:
    """Jinja's i18n extension marks translated text safe (variables are still escaped), so
    a '<' or a straight double quote in a msgid or translation would reach the page raw,
    e.g. inside an attribute. Typographic quotes (“ ”) instead."""
    with i18n.po_path(code).open("rb") as f:
        catalog = read_po(f, locale=code)
    bad = []
    for entry in catalog:
        if not entry.id:
            continue
        texts = [
            *(entry.id if isinstance(entry.id, tuple | list) else (entry.id,)),
            *(entry.string if isinstance(entry.string, tuple | list) else (entry.string,)),
        ]
        bad += [t for t in texts if t and any(c in t for c in '<>"&')]
    assert not bad, bad
