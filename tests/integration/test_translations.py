"""Every user-facing string has its Italian translation, and placeholders survive it."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]")


def _extracted_ids(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(pot),
            str(ROOT / "app"),
        ]
    )
    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def _italian_catalogue():
    with (ROOT / "app/translations/it/LC_MESSAGES/messages.po").open("rb") as handle:
        return {m.id: m for m in read_po(handle, locale="it") if m.id}


def test_every_string_in_the_code_is_translated_to_italian(tmp_path):
    italian = _italian_catalogue()
    untranslated = sorted(
        msgid
        for msgid in _extracted_ids(tmp_path)
        if msgid not in italian or not italian[msgid].string or italian[msgid].fuzzy
    )
    assert untranslated == [], f"run `make extract-messages` and translate: {untranslated[:20]}"


def test_translations_keep_their_placeholders():
    broken = [
        msgid
        for msgid, message in _italian_catalogue().items()
        if isinstance(msgid, str)
        and message.string
        and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(message.string))
    ]
    assert broken == []


def test_pages_speak_italian_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Accedi" in page
