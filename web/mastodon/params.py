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


# --- reading one parameter ---

TRUE = frozenset({"true", "1", "on", "t", "yes"})
FALSE = frozenset({"false", "0", "off", "f", "no", ""})


def boolean(values: dict, name: str) -> bool | None:
    """A boolean parameter as Rails reads one; None when not given."""
    if name not in values or values[name] is None:
        return None
    value = values[name]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise InvalidInput("%(name)s must be true or false.", field=name, name=name)


def text(values: dict, name: str) -> str | None:
    """A text parameter (a number sent in JSON reads as its digits); None when not given."""
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidInput("%(name)s must be text.", field=name, name=name)
    return str(value)


def listed(values: dict, name: str) -> list:
    """A list parameter (`name[]`), a single value read as a list of one."""
    value = values.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def given(values: dict, *names: str) -> bool:
    """Whether any of these (or a nested `name[...]` key) has a value."""
    for key, value in values.items():
        if (key in names or key.split("[", 1)[0] in names) and value not in (None, "", [], {}):
            return True
    return False


def limit(values: dict, *, default: int, maximum: int) -> int:
    raw = str(values.get("limit") or "").strip()
    number = validation.whole_number(raw)
    if raw and number is None:
        raise InvalidInput("limit must be a positive number.", field="limit")
    return min(max(number, 1), maximum) if raw else default
