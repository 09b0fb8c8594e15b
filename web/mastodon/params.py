"""An API request's parameters, read the way Rails reads them for Mastodon:
the query string merged with a form (urlencoded or multipart) or a JSON body.

One flat dict for all three: a form's `name[]` and a JSON array are both a
list under `name`; a JSON object `{"source": {"privacy": "public"}}` reads
as the form's `source[privacy]`. A body that is JSON but not an object, or
any NUL character (PostgreSQL fails on it in any query), is refused.
"""

from __future__ import annotations

from quart import request

from models.errors import InvalidInput
from models.services import validation

NUL = "The request contains a character that is not allowed (NUL)."


def _flatten(prefix: str, value, into: dict) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}[{key}]", inner, into)
    else:
        into[prefix] = value


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def row_id(raw: str | None) -> int | None:
    """An id from a path or parameter, when it can name a row (plain ASCII digits within the column)."""
    number = validation.whole_number((raw or "").strip())
    return number if number is not None and validation.is_row_id(number) else None


async def read() -> dict:
    values: dict = {}
    for key in request.args:
        items = request.args.getlist(key)
        values[key.removesuffix("[]")] = items if key.endswith("[]") else items[-1]
    if request.method not in ("GET", "HEAD", "DELETE"):
        if request.mimetype == "application/json":
            body = await request.get_json(silent=True)
            if body is not None and not isinstance(body, dict):
                raise InvalidInput("The request body must be a JSON object.")
            for key, value in (body or {}).items():
                _flatten(key.removesuffix("[]"), value, values)
        else:
            form = await request.form
            for key in form:
                items = form.getlist(key)
                values[key.removesuffix("[]")] = items if key.endswith("[]") else items[-1]
    if any(_has_nul(key) or _has_nul(value) for key, value in values.items()):
        raise InvalidInput(NUL)
    return values
