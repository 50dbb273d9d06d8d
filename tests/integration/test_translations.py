"""Every user-facing string has its Italian translation, and placeholders survive it."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]")


def _extracted_ids(tmp_path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every string in the code: one msgid may have several contexts
    (pgettext), e.g. an adjective that agrees with different nouns in Italian."""
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
            "-k",
            "lazy_pgettext:1c,2",
            "-o",
            str(pot),
            str(ROOT / "app"),
        ]
    )
    with pot.open("rb") as handle:
        return {(m.context, m.id) for m in read_po(handle) if m.id}


def _italian_catalogue():
    with (ROOT / "app/translations/it/LC_MESSAGES/messages.po").open("rb") as handle:
        return {(m.context, m.id): m for m in read_po(handle, locale="it") if m.id}


def test_every_string_in_the_code_is_translated_to_italian(tmp_path):
    italian = _italian_catalogue()
    untranslated = sorted(
        (
            key
            for key in _extracted_ids(tmp_path)
            if key not in italian or not italian[key].string or italian[key].fuzzy
        ),
        key=lambda key: (key[0] or "", key[1]),
    )
    assert untranslated == [], f"run `make extract-messages` and translate: {untranslated[:20]}"


def test_translations_keep_their_placeholders():
    broken = [
        msgid
        for (_context, msgid), message in _italian_catalogue().items()
        if isinstance(msgid, str)
        and message.string
        and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(message.string))
    ]
    assert broken == []


def test_pages_speak_italian_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Accedi" in page


def test_italian_adjectives_agree_with_their_noun(app):
    from flask_babel import force_locale

    from app.workflow.action_labels import OUTCOME_LABELS
    from app.workflow.labels import state_label

    with app.test_request_context(), force_locale("it"):
        assert state_label("not_recommended") == "Non raccomandata"  # la richiesta
        assert str(OUTCOME_LABELS["not_recommended"]) == "Non raccomandato"  # il dispositivo
