"""Bad input to the web forms through a real server (issue 10, bugs 4 and 6): never a server
error, a clear message in the user's language, what was typed shown again, nothing saved."""

from __future__ import annotations

import pytest

from tests.slow.clients import Web

pytestmark = pytest.mark.slow

BEYOND_INT32 = 2**31


def edit_url(request_id: int) -> str:
    return f"/requests/{request_id}/edit"


def edit_pairs(web: Web, request_id: int) -> list[tuple[str, str]]:
    return web.form_pairs(edit_url(request_id), edit_url(request_id))


def replaced(pairs, **values) -> list[tuple[str, str]]:
    kept = [(name, value) for name, value in pairs if name not in values]
    return kept + list(values.items())


def with_rows(pairs, list_name: str, rows: list[dict]) -> list[tuple[str, str]]:
    kept = [(name, value) for name, value in pairs if not name.startswith(f"{list_name}-")]
    for index, row in enumerate(rows):
        kept += [(f"{list_name}-{index}-{key}", value) for key, value in row.items()]
    return kept


def test_a_nul_character_is_refused_with_the_input_kept(server):
    people = server.people()
    [request_id] = server.seed.requests(people, "draft")
    web = server.web(people.manufacturer)
    before = server.seed.request_row(request_id)
    pairs = replaced(
        edit_pairs(web, request_id),
        trade_name="Valve\x00X",
        intended_purpose="A purpose typed before the bad character",
    )
    response = web.post(edit_url(request_id), data=pairs)
    assert response.status_code == 422
    assert "cannot be stored" in response.text
    assert "A purpose typed before the bad character" in response.text
    assert server.seed.request_row(request_id)["version"] == before["version"]

    upload = f"/requests/{request_id}/documents/upload"
    fields = web.form(upload, "/documents/upload") | {"doc_type": "study", "title": "IFU\x00"}
    files = {"file": ("study.pdf", b"%PDF-1.4 nothing", "application/pdf")}
    response = web.post(upload, data=fields, files=files)
    assert response.status_code == 422
    assert "cannot be stored" in response.text

    search = web.get("/requests/", params={"q": "Valve\x00"})
    assert search.status_code < 500


def test_an_id_beyond_32_bits_is_not_found(server):
    people = server.people()
    [request_id] = server.seed.requests(people, "draft")
    web = server.web(people.manufacturer)
    token = dict(edit_pairs(web, request_id))["csrf_token"]
    for path in (
        f"/requests/{BEYOND_INT32}",
        f"/requests/{BEYOND_INT32}/edit",
        f"/requests/{BEYOND_INT32}/documents",
        f"/requests/{10**30}/documents/upload",
        f"/requests/{request_id}/documents/upload?document={BEYOND_INT32}",
    ):
        assert web.get(path).status_code == 404, path
    response = web.post(f"/requests/{BEYOND_INT32}/actions/submit", {"csrf_token": token})
    assert response.status_code == 404
    assert server.api(people.manufacturer).get(f"/requests/{BEYOND_INT32}").status_code == 404


def test_rows_beyond_the_limits_are_refused_not_dropped(server):
    people = server.people()
    [request_id] = server.seed.requests(people, "draft")
    web = server.web(people.manufacturer)
    pairs = edit_pairs(web, request_id)
    before = server.seed.request_row(request_id)

    fifty = [{"description": f"Comparator {n}"} for n in range(50)]
    response = web.post(
        edit_url(request_id),
        data=[*with_rows(pairs, "comparators", fifty), ("row_action", "add-comparators")],
    )
    assert response.status_code == 200
    assert "at most 50 comparators" in response.text
    assert "Comparator 49" in response.text and 'name="comparators-50-description"' not in (
        response.text
    )

    sixty = [{"description": f"Comparator {n}"} for n in range(60)]
    response = web.post(edit_url(request_id), data=with_rows(pairs, "comparators", sixty))
    assert response.status_code == 422
    assert "At most 50 comparators" in response.text
    assert "Comparator 59" in response.text  # every row shown again, none dropped
    assert server.seed.request_row(request_id)["version"] == before["version"]

    rows = [{"design": "rct", "reference": f"Study {n}"} for n in range(100)]
    response = web.post(
        edit_url(request_id),
        data=[*with_rows(pairs, "evidence", rows), ("row_action", "add-evidence")],
    )
    assert response.status_code == 200
    assert "at most 100 evidence rows" in response.text


def test_a_blank_or_malformed_version_is_refused(server):
    people = server.people()
    [draft_id] = server.seed.requests(people, "draft")
    web = server.web(people.manufacturer)
    before = server.seed.request_row(draft_id)
    for version in ("", "abc", "-1"):
        pairs = replaced(edit_pairs(web, draft_id), version=version, model="Typed model X")
        response = web.post(edit_url(draft_id), data=pairs)
        assert response.status_code == 409, version
        assert "did not say which version" in response.text
        assert "Typed model X" in response.text
    assert server.seed.request_row(draft_id)["version"] == before["version"]

    [request_id] = server.seed.requests(people, "intake_review")
    agency = server.web(people.agency)
    page, action = f"/requests/{request_id}", f"/requests/{request_id}/actions/admit"
    for version in ("", "x1"):
        fields = agency.form(page, action) | {"admit-expected_version": version}
        response = agency.post(action, data=fields)
        assert response.status_code == 409, (version, response.status_code)
        assert "Nothing was saved" in response.text
    assert server.seed.request_row(request_id)["state"] == "intake_review"


def test_saving_a_draft_a_colleague_just_submitted_keeps_the_input(server):
    people = server.people()
    [request_id] = server.seed.requests(people, "draft_ready")
    web = server.web(people.manufacturer)
    pairs = replaced(edit_pairs(web, request_id), model="My unsaved model name")
    submitted = server.api(people.colleague).fire(request_id, "submit")
    assert submitted.status_code == 200
    response = web.post(edit_url(request_id), data=pairs)
    assert response.status_code == 409
    assert "My unsaved model name" in response.text
    assert "can no longer be edited" in response.text
    assert "Submit" in response.text
    row = server.seed.request_row(request_id)
    assert row["state"] == "intake_review"
    assert row["version"] == submitted.json()["version"]
