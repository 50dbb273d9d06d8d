"""The OpenAPI document matches the routes, and the documentation pages are served locally."""

from __future__ import annotations

import re

from app.api.openapi import openapi_path
from app.api.problems import PROBLEM_TYPES

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_routes(app) -> set[tuple[str, str]]:
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - IGNORED_METHODS
    }


def documented(document) -> set[tuple[str, str]]:
    return {(path, method) for path, methods in document["paths"].items() for method in methods}


def test_every_api_route_is_documented_and_every_documented_operation_exists(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert api_routes(app) == documented(document)


def test_every_operation_has_an_id_a_summary_and_its_errors(client):
    document = client.get("/api/v1/openapi.json").get_json()
    ids = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            ids.append(operation["operationId"])
            assert operation["summary"], (path, method)
            assert "default" in operation["responses"]
            if operation.get("security") != []:
                assert "401" in operation["responses"] and "429" in operation["responses"]
            if "{" in path:
                assert "404" in operation["responses"], (path, method)
    assert len(ids) == len(set(ids))


def test_every_reference_resolves(client):
    document = client.get("/api/v1/openapi.json").get_json()
    text = client.get("/api/v1/openapi.json").get_data(as_text=True)
    components = document["components"]
    for kind, name in re.findall(r'"#/components/(\w+)/(\w+)"', text):
        assert name in components[kind], (kind, name)


def test_the_document_is_public_and_the_data_is_not(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_the_docs_page_lists_every_operation_schema_and_problem(client):
    document = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for methods in document["paths"].values():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    for slug in PROBLEM_TYPES:
        assert f'id="problem-{slug}"' in page
    assert "Idempotency-Key" in page and "curl -X POST" in page
    assert not re.search(r'(src|href)="https?://', page), "no external resources"


def test_each_problem_type_has_its_page(client):
    for problem in PROBLEM_TYPES.values():
        response = client.get(problem.uri)
        assert response.status_code == 200, problem.uri
        assert str(problem.status) in response.get_data(as_text=True)
    assert client.get("/api/v1/problems/nonsense").status_code == 404


def test_unknown_urls_and_methods_under_the_api_are_problems(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.delete("/api/v1/requests")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert wrong.mimetype == "application/problem+json"
    assert client.get("/requests/nothing-here").mimetype == "text/html"  # pages keep HTML


def test_unknown_api_urls_are_problems_even_with_csrf_on(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/api/v1/nothing-here", json={})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    wrong = client.put("/api/v1/requests", json={})
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"
