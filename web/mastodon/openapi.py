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
LOOKUP = {"acct": STRING}
STATUS_FORM = {"status": STRING, "in_reply_to_id": ID, "visibility": STRING, "spoiler_text": STRING,
               "sensitive": BOOLEAN, "language": STRING, "media_ids[]": IDS, "scheduled_at": STRING,
               "poll[options][]": {"type": "array", "items": STRING}, "poll[expires_in]": INTEGER}
PARAMETERS: dict[str, dict[str, dict]] = {
    # accounts
    "GET /api/v1/accounts": {"id[]": IDS},
    "GET /api/v1/accounts/familiar_followers": {"id[]": IDS},
    "GET /api/v1/accounts/relationships": {"id[]": IDS, "with_suspended": BOOLEAN},
    "GET /api/v1/accounts/lookup": LOOKUP,
    "GET /api/v1/accounts/search": {"q": STRING, "limit": INTEGER, "offset": INTEGER, "resolve": BOOLEAN,
                                    "following": BOOLEAN},
    "PATCH /api/v1/accounts/update_credentials": {
        "display_name": STRING, "note": STRING, "locked": BOOLEAN, "bot": BOOLEAN, "discoverable": BOOLEAN,
        "indexable": BOOLEAN, "hide_collections": BOOLEAN, "source[privacy]": STRING, "source[sensitive]": BOOLEAN,
        "source[language]": STRING},
    "GET /api/v1/accounts/{account_id}/statuses": {**PAGING, "exclude_replies": BOOLEAN, "only_media": BOOLEAN,
                                                   "pinned": BOOLEAN, "tagged": STRING},
    "GET /api/v1/accounts/{account_id}/followers": PAGING,
    "GET /api/v1/accounts/{account_id}/following": PAGING,
    "POST /api/v1/accounts/{account_id}/follow": {"reblogs": BOOLEAN, "notify": BOOLEAN},
    "POST /api/v1/accounts/{account_id}/mute": {"notifications": BOOLEAN, "duration": INTEGER},
    "GET /api/v1/blocks": PAGING, "GET /api/v1/mutes": PAGING, "GET /api/v1/follow_requests": PAGING,
    # apps and tokens
    "POST /api/v1/apps": {"client_name": STRING, "redirect_uris": STRING, "scopes": STRING, "website": STRING},
    "POST /oauth/token": {"grant_type": STRING, "code": STRING, "redirect_uri": STRING, "client_id": STRING,
                          "client_secret": STRING, "code_verifier": STRING, "scope": STRING},
    "POST /oauth/revoke": {"client_id": STRING, "client_secret": STRING, "token": STRING},
    # statuses
    "POST /api/v1/statuses": STATUS_FORM,
    "GET /api/v1/statuses": {"id[]": IDS},
    "PUT /api/v1/statuses/{raw_id}": STATUS_FORM,
    "GET /api/v1/statuses/{raw_id}/favourited_by": PAGING,
    "GET /api/v1/bookmarks": PAGING, "GET /api/v1/favourites": PAGING,
    # timelines, notifications, markers
    "GET /api/v1/timelines/home": PAGING,
    "GET /api/v1/timelines/public": {**PAGING, "local": BOOLEAN, "remote": BOOLEAN, "only_media": BOOLEAN},
    "GET /api/v1/timelines/tag/{hashtag}": {**PAGING, "local": BOOLEAN, "remote": BOOLEAN, "only_media": BOOLEAN,
                                            "any[]": {"type": "array", "items": STRING},
                                            "all[]": {"type": "array", "items": STRING},
                                            "none[]": {"type": "array", "items": STRING}},
    "GET /api/v1/notifications": {**PAGING, "types[]": {"type": "array", "items": STRING},
                                  "exclude_types[]": {"type": "array", "items": STRING}, "account_id": ID},
    "GET /api/v1/markers": {"timeline[]": {"type": "array", "items": STRING}},
    "POST /api/v1/markers": {"home[last_read_id]": ID, "notifications[last_read_id]": ID},
    # polls and search
    "POST /api/v1/polls/{raw_id}/votes": {"choices[]": {"type": "array", "items": INTEGER}},
    "GET /api/v2/search": {"q": STRING, "type": STRING, "resolve": BOOLEAN, "limit": INTEGER, "offset": INTEGER,
                           "account_id": ID, "following": BOOLEAN},
}


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
    from web.mastodon import blueprints  # here, not at the top: web.mastodon imports this module

    api = {blueprint.name for blueprint in blueprints()}
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
