"""JSON Schema (2020-12, as OpenAPI 3.1 uses it) building blocks and the component registry.

Each resource module declares the schemas of what it reads and writes next to its views, with
`component("Name", {...})`, which returns a `$ref` to it; `app.api.openapi` publishes them.
"""

from __future__ import annotations

from typing import Any

COMPONENTS: dict[str, dict] = {}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def component(name: str, definition: dict) -> dict:
    COMPONENTS[name] = definition
    return ref(name)


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema.get("type")
    if isinstance(kind, str):
        result = schema | {"type": [kind, "null"]}
        if "enum" in schema:
            result["enum"] = [*schema["enum"], None]
        return result
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, dict], required: Any = "all", **extra) -> dict:
    """An object with these properties; all required unless `required` lists some."""
    names = list(properties) if required == "all" else list(required or ())
    schema = {"type": "object", "properties": properties, **extra}
    if names:
        schema["required"] = names
    return schema


def array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def enum(values, **extra) -> dict:
    return {"type": "string", "enum": list(values), **extra}


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
ID = {"type": "integer", "minimum": 1}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
MONEY = {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "description": "EUR, exact"}
ANY_OBJECT = {"type": "object"}
NAMED = obj({"id": ID, "name": STRING})


def page_of(item: dict, description: str = "") -> dict:
    return obj(
        {
            "items": array(item),
            "next_cursor": nullable(
                STRING | {"description": "Pass as `cursor` to get the next page; null at the end."}
            ),
        },
        description=description,
    )
