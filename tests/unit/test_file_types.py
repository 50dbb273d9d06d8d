"""Files are recognised by their content, names with path tricks are refused, and the pure
rules of documents and information requests."""

from __future__ import annotations

import io
from datetime import date
from types import SimpleNamespace

import pytest

from app.domain import document_rules as rules
from app.domain import file_types
from app.domain import information_rules as info
from tests.document_support import (
    ACCEPTED_FILES,
    DOCM_MAIN,
    docx_bytes,
    elf_bytes,
    exe_bytes,
    html_bytes,
    odf_bytes,
    pdf_bytes,
    zip_bytes,
)


@pytest.mark.parametrize("code", sorted(ACCEPTED_FILES))
def test_each_accepted_kind_is_recognised_by_its_content(code):
    _, make_bytes, content_type = ACCEPTED_FILES[code]
    detected = file_types.detect_file_type(io.BytesIO(make_bytes()))
    assert detected is not None and detected.code == code
    assert detected.content_type == content_type


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(elf_bytes(), id="elf-executable"),
        pytest.param(exe_bytes(), id="windows-executable"),
        pytest.param(html_bytes(), id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(b"Just some text, saved as .pdf", id="text"),
        pytest.param(zip_bytes([("readme.txt", b"hello")]), id="plain-zip"),
        pytest.param(docx_bytes(DOCM_MAIN), id="macro-enabled-word"),
        pytest.param(odf_bytes("application/vnd.oasis.opendocument.presentation"), id="odp"),
        pytest.param(b"PK\x03\x04 but not really a zip", id="broken-zip"),
        pytest.param(b" %PDF-1.4 leading space", id="pdf-not-at-start"),
    ],
)
def test_anything_else_is_not_recognised(data):
    assert file_types.detect_file_type(io.BytesIO(data)) is None


def test_a_huge_manifest_inside_a_zip_is_not_read():
    manifest = b'"' + b"x" * (file_types.MAX_MANIFEST_BYTES + 10) + b'"'
    bomb = zip_bytes([("[Content_Types].xml", manifest)])
    assert file_types.detect_file_type(io.BytesIO(bomb)) is None


def test_detection_leaves_the_stream_at_its_start():
    stream = io.BytesIO(pdf_bytes())
    file_types.detect_file_type(stream)
    assert stream.tell() == 0


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ifu.pdf", None),
        ("Istruzioni per l'uso (v2).pdf", None),
        ("../../x.pdf", file_types.E_NAME_PATH),
        ("/etc/passwd", file_types.E_NAME_PATH),
        ("..\\..\\x.pdf", file_types.E_NAME_PATH),
        ("C:\\Users\\x.pdf", file_types.E_NAME_PATH),
        ("C:x.pdf", file_types.E_NAME_PATH),
        ("..", file_types.E_NAME_PATH),
        ("x\x00.pdf", file_types.E_NAME_CONTROL),
        ("x\n.pdf", file_types.E_NAME_CONTROL),
        ("", file_types.E_NAME_MISSING),
        ("   ", file_types.E_NAME_MISSING),
        (None, file_types.E_NAME_MISSING),
        ("a" * 252 + ".pdf", file_types.E_NAME_TOO_LONG),
    ],
)
def test_file_names_with_path_tricks_are_refused_not_cleaned(name, problem):
    assert file_types.filename_problem(name) == problem


# --- Who uploads what ---------------------------------------------------------------------------


def _actor(role, org=1):
    return SimpleNamespace(id=1, role=role, organisation_id=org)


def _request(state, manufacturer=1, body=2):
    return SimpleNamespace(manufacturer_id=manufacturer, state=state, assigned_body_id=body)


@pytest.mark.parametrize("state", sorted(rules.MANUFACTURER_UPLOAD_STATES))
def test_the_manufacturer_uploads_everything_but_the_report_while_it_holds_the_file(state):
    types = rules.uploadable_types(_actor("manufacturer", 1), _request(state))
    assert "instructions_for_use" in types
    assert rules.ASSESSMENT_REPORT not in types


@pytest.mark.parametrize("state", ["intake_review", "assessment", "appraisal"])
def test_the_manufacturer_uploads_nothing_while_others_hold_the_file(state):
    assert rules.uploadable_types(_actor("manufacturer", 1), _request(state)) == ()


def test_the_assessor_of_the_assigned_body_uploads_only_the_assessment_report():
    assert rules.uploadable_types(_actor("assessor", 2), _request("assessment")) == (
        "assessment_report",
    )
    assert rules.uploadable_types(_actor("assessor", 3), _request("assessment")) == ()
    assert rules.uploadable_types(_actor("assessor", 2), _request("appraisal")) == ()


def test_the_agency_uploads_any_type_but_never_to_a_draft():
    assert rules.uploadable_types(_actor("agency", 9), _request("appraisal")) == (
        rules.DOCUMENT_TYPES
    )
    assert rules.uploadable_types(_actor("agency", 9), _request("draft")) == ()


@pytest.mark.parametrize("role", ["irccs", "admin"])
def test_non_parties_neither_upload_nor_download(role):
    actor = _actor(role, 5)
    published = _request("adoption_monitoring")
    assert not rules.can_upload_document(actor, published)
    assert not rules.can_download_document(actor, published)


def test_only_the_agency_marks_public():
    assert rules.can_mark_public(_actor("agency", 9), _request("appraisal"))
    assert not rules.can_mark_public(_actor("manufacturer", 1), _request("draft"))
    assert not rules.can_mark_public(_actor("assessor", 2), _request("assessment"))


def test_missing_document_types_keep_the_mandatory_order():
    assert rules.missing_document_types({"study"}, ("instructions_for_use", "ce_certificate")) == [
        "instructions_for_use",
        "ce_certificate",
    ]
    assert rules.missing_document_types({"ce_certificate", "instructions_for_use"}, ()) == []


def test_titles_compare_after_collapsing_whitespace():
    assert rules.normalise_title("  Instructions   for use ") == "Instructions for use"


# --- Information requests -------------------------------------------------------------------------


def test_a_due_date_must_be_after_today_and_within_the_deadline():
    today, deadline = date(2026, 3, 2), date(2026, 4, 1)
    assert info.due_date_problem(None, today, deadline) is None
    assert info.due_date_problem(date(2026, 3, 20), today, deadline) is None
    assert info.due_date_problem(deadline, today, deadline) is None
    assert info.due_date_problem(today, today, deadline) == info.E_DUE_NOT_FUTURE
    assert info.due_date_problem(date(2026, 4, 2), today, deadline) == info.E_DUE_AFTER_DEADLINE
    assert info.due_date_problem(date(2027, 1, 1), today, None) is None


def test_unanswered_questions_are_listed_by_number():
    assert info.unanswered([(1, "Yes"), (2, "  "), (3, None), (4, "No")]) == [2, 3]
