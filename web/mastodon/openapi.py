"""A description of the client API in OpenAPI 3.1, served at /api/openapi.json.

The paths and methods come from the app's own routes, so the description
cannot miss an endpoint; the parameters each endpoint reads are listed in
PARAMETERS (Mastodon's names). tests/fuzz/test_api_schema.py hands this
description to Schemathesis, which sends every endpoint generated and
malformed input and fails on any 500.
"""

from __future__ import annotations

import re

from quart import Blueprint, Quart, current_app

bp = Blueprint("mastodon_openapi", __name__)

# Long-lived responses: a fuzzer (or any client reading the description) must not wait on them.
STREAMING = re.compile(r"^/api/v1/streaming")
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")

STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
ID = {"type": "string", "pattern": "^[0-9]{1,19}$"}
IDS = {"type": "array", "items": ID}
PAGING = {"max_id": ID, "since_id": ID, "min_id": ID, "limit": INTEGER}

# "METHOD /path/{arg}": {name: schema}. GET parameters go in the query; the
# others in a form body (apps send forms or JSON; both are read alike).
PARAMETERS: dict[str, dict[str, dict]] = {}


def _openapi_path(rule: str) -> tuple[str, list[dict]]:
    """Quart's `/api/v1/statuses/<int:id>` as OpenAPI's `/api/v1/statuses/{id}`, with its path parameters."""
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": INTEGER if converter == "int" else STRING}
        for converter, name in _CONVERTER.findall(rule)
    ]
    return _CONVERTER.sub(lambda match: "{" + match.group(2) + "}", rule), parameters


def _operation(method: str, path: str, path_parameters: list[dict], endpoint: str) -> dict:
    declared = PARAMETERS.get(f"{method} {path}", {})
    operation: dict = {
        "operationId": f"{endpoint}:{method.lower()}",
        "security": [{"bearer": []}, {}],
        "responses": {"default": {"description": "Mastodon's entity, or {\"error\": ...}"}},
    }
    if method == "GET" or method == "DELETE":
        operation["parameters"] = path_parameters + [
            {"name": name, "in": "query", "schema": schema} for name, schema in declared.items()
        ]
    else:
        operation["parameters"] = path_parameters
        operation["requestBody"] = {"content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": declared}}}}
    return operation


def describe(app: Quart) -> dict:
    from web.mastodon import BLUEPRINTS  # here, not at the top: web.mastodon imports this module

    api = {blueprint.name for blueprint in BLUEPRINTS}
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] not in api or STREAMING.match(rule.rule):
            continue
        path, path_parameters = _openapi_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(method, path, path_parameters, rule.endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Circles' Mastodon-compatible client API", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/api/openapi.json")
async def openapi():
    return describe(current_app)
