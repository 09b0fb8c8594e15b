from __future__ import annotations

from quart import Blueprint, render_template

from models.services import accounts as account_service
from models.services import questions as question_service
from web.html.people import person_context

bp = Blueprint("users", __name__)


@bp.get("/users/<username>")
async def show(username: str):
    account = await account_service.get_by_username(username)
    return await render_template(
        "users/show.html",
        credits=await question_service.credits_by_circle(account.actor),
        **await person_context(account.actor),
    )
