"""Syncro's published API description (shared/contracts/syncro-swagger.json), made checkable.

The stand-in validates every request it receives and every response it sends against this.
The published file is used as it is, except for the corrections below, each one small, named
and explained; validation itself is never switched off. After them the document must still be
a valid OpenAPI 3.0 description (``OpenAPI.from_dict`` checks it).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

from openapi_core import OpenAPI

from tests.support import SHARED_DATA

SPEC_FILE = SHARED_DATA.parent / "contracts" / "syncro-swagger.json"

# The operations deskhand calls. Their responses are published as examples only; for these
# the checks below derive a schema from the examples (see ``schema_of``).
USED = [
    ("/me", "get"),
    ("/tickets", "get"),
    ("/tickets", "post"),
    ("/tickets/{id}", "get"),
    ("/tickets/{id}", "put"),
    ("/tickets/{id}/comment", "post"),
    ("/tickets/{id}/timer_entry", "post"),
    ("/ticket_timers", "get"),
    ("/ticket_timers/{id}", "patch"),
    ("/customers/{id}", "get"),
    ("/contacts", "get"),
]

# Answers Syncro gives that its description leaves out, with the bodies the stand-in sends.
NOT_AUTHORISED = {
    "error": "Not authorized. Please ask account admin to update your group permissions."
}
NOT_FOUND = {"message": "Not found"}
TOO_MANY = {"success": False, "message": ["Rate limit exceeded: 180 requests per minute"]}
FAILED = {"error": "Internal Server Error"}

_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@cache
def published() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return spec


@cache
def checked() -> OpenAPI:
    """The corrected description, as openapi-core validates against it."""
    return OpenAPI.from_dict(corrected())


def corrected() -> dict[str, Any]:
    spec = copy.deepcopy(published())
    _fix_what_openapi_30_rejects(spec)
    _add_what_syncro_does(spec)
    _schemas_from_examples(spec)
    # The stand-in serves the same paths under a loopback address.
    spec["servers"].append(
        {"url": "http://127.0.0.1:{port}/api/v1", "variables": {"port": {"default": "80"}}}
    )
    return spec


def example(path: str, method: str, status: str = "200") -> Any:
    """A fresh copy of the published example answer, which the stand-in fills in."""
    content = published()["paths"][path][method]["responses"][status]["content"]
    return copy.deepcopy(next(iter(content.values()))["example"])


def _fix_what_openapi_30_rejects(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    # Known quirk: one path is published without its leading slash.
    paths["/ticket_timers/{id}"] = paths.pop("ticket_timers/{id}")
    # "apiKey" with a "scheme" is neither an API key nor HTTP auth; Syncro's documentation says
    # `Authorization: Bearer <api key>`, which is OpenAPI's HTTP bearer scheme.
    spec["components"]["securitySchemes"]["bearerAuth"] = {"type": "http", "scheme": "bearer"}
    for operations in paths.values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                # `format` and `items` published beside the schema instead of inside it.
                for key in ("format", "items"):
                    if key in parameter:
                        parameter["schema"][key] = parameter.pop(key)
                schema = parameter.get("schema", {})
                # include_disabled: a string parameter whose default is the boolean false.
                if schema.get("type") == "string" and isinstance(schema.get("default"), bool):
                    schema["default"] = str(schema["default"]).lower()
    _walk(spec, _openapi_31_to_30)
    # customer_assets/{id}: the asset's answer schema is garbled (a schema where a property map
    # belongs, `items: []`); deskhand does not read assets, so that answer is left unchecked.
    for method in ("get", "put"):
        media = paths["/customer_assets/{id}"][method]["responses"]["200"]["content"]["*/*"]
        media.pop("schema")


def _openapi_31_to_30(node: dict[str, Any]) -> None:
    """Two customer_assets answers use OpenAPI 3.1 forms: a list of types with "null", and
    an empty `required` list."""
    kinds = node.get("type")
    if isinstance(kinds, list):
        rest = [kind for kind in kinds if kind != "null"]
        node.pop("type")
        if rest:
            node["type"] = rest[0]
        node["nullable"] = True
    if node.get("required") == []:
        node.pop("required")


def _add_what_syncro_does(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    # Known quirk: Syncro refuses a comment without a subject (422), though the spec does not
    # mark it required; deskhand always sends both.
    body = paths["/tickets/{id}/comment"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"]["required"] = ["subject", "body"]
    for path, method in USED:
        responses = paths[path][method]["responses"]
        # A key Syncro does not know, or a permission the key lacks: 401, documented on a few
        # operations only. 404 is documented without its body on most.
        responses.setdefault("401", _answer("Not authorized", NOT_AUTHORISED))
        if "content" not in responses.get("404", {}):
            responses["404"] = _answer("Not found", NOT_FOUND)
        # The README's 180 requests a minute, and a server failing: both undocumented.
        responses["429"] = _answer("Too many requests (180 a minute)", TOO_MANY)
        responses["5XX"] = _answer("Syncro failed", FAILED)


def _answer(description: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"example": body}}}


def _schemas_from_examples(spec: dict[str, Any]) -> None:
    comments = [
        example("/tickets/{id}/comment", "post")["comment"],
        *example("/tickets", "post")["ticket"]["comments"],
    ]
    timers = [
        example("/tickets/{id}/timer_entry", "post"),
        *example("/ticket_timers", "get")["ticket_timers"],
    ]
    for path, method in USED:
        for answer in spec["paths"][path][method]["responses"].values():
            for media in answer.get("content", {}).values():
                if "schema" not in media and media.get("example") is not None:
                    # Published empty lists of comments and timers say nothing of their items;
                    # the comment and timer answers show what those items are.
                    sample = _fill_empty(
                        media["example"], {"comments": comments, "ticket_timers": timers}
                    )
                    media["schema"] = schema_of([sample])
    # A contact's schema is published (GET /contacts/{id}, with `email` nullable); the list's
    # contacts are that object, so they are checked against it rather than the list's example.
    contact = spec["paths"]["/contacts/{id}"]["get"]["responses"]["200"]["content"]["*/*"]
    listed = spec["paths"]["/contacts"]["get"]["responses"]["200"]["content"]["application/json"]
    listed["schema"]["properties"]["contacts"]["items"] = contact["schema"]


def schema_of(samples: list[Any]) -> dict[str, Any]:
    """A schema every sample fits: the same keys (all required, no others), the same types; a
    value that is null in some sample may be null, and one null in every sample may be anything."""
    present = [sample for sample in samples if sample is not None]
    schema: dict[str, Any] = {"nullable": True} if len(present) < len(samples) else {}
    if not present:
        return {"nullable": True}
    first = present[0]
    if isinstance(first, dict):
        dicts = [sample for sample in present if isinstance(sample, dict)]
        keys = list(dict.fromkeys(key for sample in dicts for key in sample))
        schema.update(
            type="object",
            additionalProperties=False,
            properties={key: schema_of([s[key] for s in dicts if key in s]) for key in keys},
        )
        required = [key for key in keys if all(key in sample for sample in dicts)]
        if required:
            schema["required"] = required
    elif isinstance(first, list):
        schema["type"] = "array"
        items = [item for sample in present if isinstance(sample, list) for item in sample]
        if items:
            schema["items"] = schema_of(items)
    elif isinstance(first, bool):
        schema["type"] = "boolean"
    elif isinstance(first, int):
        schema["type"] = "integer"
    elif isinstance(first, float):
        schema["type"] = "number"
    else:
        schema["type"] = "string"
        if all(isinstance(s, str) and _DATE_TIME.match(s) for s in present):
            schema["format"] = "date-time"
    return schema


def _fill_empty(sample: Any, items: dict[str, list[Any]]) -> Any:
    if isinstance(sample, dict):
        return {
            key: items[key] if key in items and value == [] else _fill_empty(value, items)
            for key, value in sample.items()
        }
    if isinstance(sample, list):
        return [_fill_empty(value, items) for value in sample]
    return sample


def _walk(node: Any, visit: Any) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)
