"""Paging lists the way Mastodon does: by id, with `max_id`, `since_id`,
`min_id` and `limit`, and a `Link` header naming the next and previous pages
(https://docs.joinmastodon.org/api/guidelines/#pagination).

Our ids are sortable (models/clock.py), so "newer" is "larger id".
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from quart import request

from models.errors import InvalidInput
from models.services import validation

MAX_ID = (1 << 63) - 1


@dataclass(frozen=True)
class Page:
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int


def _id_param(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    number = validation.whole_number(raw)
    if number is None or number > MAX_ID:
        raise InvalidInput("%(name)s must be an id.", field=name, name=name)
    return number


def page_params(*, default: int = 20, maximum: int = 40) -> Page:
    """The paging parameters of this request; a limit beyond `maximum` is cut to it, as Mastodon does."""
    raw = request.args.get("limit", "").strip()
    number = validation.whole_number(raw)
    if raw and number is None:
        raise InvalidInput("limit must be a positive number.", field="limit")
    limit = min(max(number, 1), maximum) if raw else default
    return Page(_id_param("max_id"), _id_param("since_id"), _id_param("min_id"), limit)


def apply(queryset, page: Page, *, field: str = "id"):
    """Filter and order a queryset for one page. With `min_id` the page is the
    oldest ones after it (returned oldest first: reverse them); otherwise the
    newest before `max_id`, newest first."""
    if page.max_id is not None:
        queryset = queryset.filter(**{f"{field}__lt": page.max_id})
    if page.since_id is not None:
        queryset = queryset.filter(**{f"{field}__gt": page.since_id})
    if page.min_id is not None:
        return queryset.filter(**{f"{field}__gt": page.min_id}).order_by(field).limit(page.limit)
    return queryset.order_by(f"-{field}").limit(page.limit)


def newest_first(rows: list, page: Page) -> list:
    """The rows `apply` loaded, newest first whichever way they were read."""
    return list(reversed(rows)) if page.min_id is not None else rows


def link_header(first_id: int | None, last_id: int | None) -> dict[str, str]:
    """`Link` to the older page (after the last item) and the newer one (before the first)."""
    if first_id is None or last_id is None:
        return {}
    base = request.base_url
    kept = [(key, value) for key, value in request.args.items(multi=True)
            if key not in ("max_id", "since_id", "min_id")]
    older = f"{base}?{urlencode([*kept, ('max_id', str(last_id))])}"
    newer = f"{base}?{urlencode([*kept, ('min_id', str(first_id))])}"
    return {"Link": f'<{older}>; rel="next", <{newer}>; rel="prev"'}
