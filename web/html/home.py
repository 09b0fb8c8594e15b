from __future__ import annotations

from quart import Blueprint, render_template, request

from models.services import circles as circle_service
from models.services import feed_cards
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import profiles
from models.services import questions as question_service
from web.html.forms import page_number
from web.security import current_account

bp = Blueprint("home", __name__)


@bp.get("/")
async def index():
    account = current_account()
    if account is None:
        return await render_template("home/welcome.html", circles=await circle_service.list_circles(limit=12))
    memberships = await circle_service.memberships_of(account.actor)
    # The person's circles, loaded once (with their actors) for the lists below, which attach them rather than join them again.
    circles = {m.circle_id: m.circle for m in memberships}
    posts = await post_service.recent_posts_for(account.actor, circles=circles)
    followed = await _followed(account.actor)
    return await render_template(
        "home/index.html",
        memberships=memberships,
        posts=posts,
        # One query per kind present, for the feed and the followed section together.
        card_details=await feed_cards.card_details([*posts, *followed["followed_posts"]]),
        open_questions=await question_service.could_answer(account.actor, circles=circles),
        meetings=await meeting_service.next_meetings_for(account.actor, limit=5, circles=circles),
        **followed,
    )


FOLLOWED_PAGE = 10


async def _followed(actor) -> dict:
    """The "From people you follow" section, paged by ?followed_before=<id>."""
    before = page_number(request.args.get("followed_before"))
    posts = await profiles.posts_from_followed(actor, before_id=before, limit=FOLLOWED_PAGE + 1)
    return {
        "followed_posts": posts[:FOLLOWED_PAGE],
        "followed_next": posts[FOLLOWED_PAGE - 1].id if len(posts) > FOLLOWED_PAGE else None,
    }
