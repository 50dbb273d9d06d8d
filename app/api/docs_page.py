"""What the API documentation page shows, prepared from the OpenAPI document: operations by
tag (parameters, bodies, responses, a curl example), every schema and every problem type.
Schemas are shown as JSON with their `$ref`s turned into links within the page."""

from __future__ import annotations

import json
import re

from flask import request
from markupsafe import Markup, escape

from app.api.problems import PROBLEM_TYPES

REF = re.compile(r"&#34;#/components/(schemas|responses)/(\w+)&#34;")
BOLD = re.compile(r"\*\*(.+?)\*\*")
CODE = re.compile(r"`([^`]+)`")


def inline_markdown(text: str) -> Markup:
    """**bold** and `code` of the descriptions, on escaped text."""
    html = str(escape(text))
    html = BOLD.sub(r"<strong>\1</strong>", html)
    html = CODE.sub(r"<code>\1</code>", html)
    return Markup(html)  # noqa: S704 (built from escaped text)


def paragraphs(text: str) -> list[Markup]:
    return [inline_markdown(" ".join(p.split())) for p in (text or "").split("\n\n") if p.strip()]


def schema_html(schema) -> Markup:
    """Pretty JSON of a schema with its references as links to the schema's section."""
    html = str(escape(json.dumps(schema, indent=2, ensure_ascii=False)))

    def link(match: re.Match) -> str:
        kind, name = match.groups()
        anchor = f"schema-{name}" if kind == "schemas" else "problems"
        return f'&#34;<a href="#{anchor}">#/components/{kind}/{name}</a>&#34;'

    return Markup(REF.sub(link, html))  # noqa: S704 (escaped JSON, our own links)


def _example(media: dict) -> Markup | None:
    schema = media.get("schema") or {}
    examples = schema.get("examples")
    if examples:
        return schema_html(examples[0])
    return None


def _curl(method: str, path: str, operation: dict) -> str:
    base = request.host_url.rstrip("/")
    parts = [f"curl -X {method}"]
    if operation.get("security") != []:
        parts.append('-H "Authorization: Bearer $HTA_TOKEN"')
    body = operation.get("requestBody", {}).get("content", {})
    if "application/json" in body:
        parts.append("-H 'Content-Type: application/json' -d @body.json")
    elif "multipart/form-data" in body:
        parts.append("-F file=@ifu.pdf -F doc_type=instructions_for_use -F title='IFU'")
    parts.append(f'"{base}{path}"')
    return " ".join(parts)


def _operation(path: str, method: str, operation: dict) -> dict:
    body = operation.get("requestBody")
    return {
        "anchor": operation["operationId"],
        "method": method.upper(),
        "path": path,
        "summary": operation["summary"],
        "description": paragraphs(operation.get("description", "")),
        "parameters": [
            {
                "name": p["name"],
                "location": p["in"],
                "required": p.get("required", False),
                "schema": schema_html(p["schema"]),
                "description": inline_markdown(p.get("description", "")),
            }
            for p in operation.get("parameters", [])
        ],
        "body": [
            {"media": media, "schema": schema_html(content["schema"]), "example": _example(content)}
            for media, content in (body or {}).get("content", {}).items()
        ],
        "body_required": bool(body and body.get("required")),
        "responses": [
            {
                "status": status,
                "schema": schema_html(response),
            }
            for status, response in operation["responses"].items()
        ],
        "curl": _curl(method.upper(), path, operation),
        "public": operation.get("security") == [],
    }


def docs_context(document: dict) -> dict:
    by_tag: dict[str, list[dict]] = {tag["name"]: [] for tag in document["tags"]}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            by_tag.setdefault(operation["tags"][0], []).append(_operation(path, method, operation))
    return {
        "info": document["info"],
        "introduction": paragraphs(document["info"]["description"]),
        "tags": [
            {
                "name": tag["name"],
                "description": tag["description"],
                "operations": by_tag[tag["name"]],
            }
            for tag in document["tags"]
            if by_tag.get(tag["name"])
        ],
        "schemas": [
            {"name": name, "schema": schema_html(schema)}
            for name, schema in document["components"]["schemas"].items()
        ],
        "problems": [problem_view(problem) for problem in PROBLEM_TYPES.values()],
    }


def problem_view(problem) -> dict:
    return {
        "slug": problem.slug,
        "uri": problem.uri,
        "status": problem.status,
        "title": str(problem.title),
        "description": inline_markdown(str(problem.description)),
    }
