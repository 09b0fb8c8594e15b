from __future__ import annotations

from quart import Blueprint, render_template

from models.services import circles as circle_service
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import questions as question_service
from web.security import current_account

bp = Blueprint("home", __name__)


@bp.get("/")
async def index():
    account = current_account()
    if account is None:
        return await render_template("home/welcome.html", circles=await circle_service.list_circles(limit=12))
    memberships = await circle_service.memberships_of(account.actor)
    return await render_template(
        "home/index.html",
        memberships=memberships,
        posts=await post_service.recent_posts_for(account.actor),
        open_questions=await question_service.could_answer(account.actor),
        meetings=await meeting_service.next_meetings_for(account.actor, limit=5),
    )
