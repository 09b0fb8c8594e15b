from __future__ import annotations

from quart import Blueprint, render_template

from models.services import accounts as account_service
from models.services import questions as question_service
from web import security
from web.html.people import person_context

bp = Blueprint("users", __name__)


@bp.get("/users/<username>")
async def show(username: str):
    account = await account_service.get_by_username(username)
    context = await person_context(account.actor)
    viewer = security.current_account()
    if viewer is None or viewer.id != account.id:  # the person always sees their whole page
        if not account.profile_shows_circles:
            context["memberships"] = None
        if not account.profile_shows_posts:
            context["posts"], context["next_before"] = None, None
    return await render_template(
        "users/show.html",
        credits=await question_service.credits_by_circle(account.actor),
        account=account,
        **context,
    )
