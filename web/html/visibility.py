"""Members-only circles: every page of a circle's content is checked here,
once, before the page runs (web/html/__init__.py), by the circle its address
names (`handle`) or the circle of the post or resource it names."""

from __future__ import annotations

from quart import request

from federation import routes
from models.circles import Circle
from models.posts import Post
from models.resources import Resource
from models.services import circles as circle_service
from models.services import validation, visibility
from web import security

# The pages of a members-only circle that anyone may open: its profile, and
# asking to join or leaving it.
OPEN_TO_ALL = frozenset({"circles.about", "circles.join", "circles.leave"})


def _row_id(value) -> bool:
    return isinstance(value, int) and validation.is_row_id(value)


async def _circle_of_request() -> Circle | None:
    args = request.view_args or {}
    if "handle" in args and request.blueprint != "people":  # there it names a person
        return await circle_service.get_circle(args["handle"])
    if _row_id(args.get("post_id")):
        post = await Post.filter(id=args["post_id"]).select_related("circle").first()
        return post.circle if post else None
    if _row_id(args.get("resource_id")):
        resource = await Resource.filter(id=args["resource_id"]).select_related("post__circle").first()
        return resource.post.circle if resource else None
    return None


async def check_request() -> None:
    if request.endpoint in OPEN_TO_ALL:
        return
    if request.url_rule is not None and request.url_rule.rule in routes.NEGOTIATED and routes.wants_activitypub():
        return  # a server asks for the JSON-LD document: federation/routes.py checks its signature
    circle = await _circle_of_request()
    if circle is None or not circle.members_only:
        return
    account = security.current_account()
    await visibility.require_reader(circle, account.actor if account else None)
