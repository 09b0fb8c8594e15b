"""A local person's page, and following them from here (no federation
traffic: both people are on this server)."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, url_for

from models.services import accounts as account_service
from models.services import follows
from models.services import questions as question_service
from web import security
from web.html.people import person_context
from web.i18n import _

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


@bp.post("/users/<username>/follow")
@security.login_required
async def follow(username: str):
    person = (await account_service.get_by_username(username)).actor
    await follows.follow_local(security.current_account().actor, person)
    await flash(_("You follow %(name)s: the posts of theirs you may read appear on your home page, under “From people you follow”.", name=person.name))
    return redirect(url_for("users.show", username=username))


@bp.post("/users/<username>/unfollow")
@security.login_required
async def unfollow(username: str):
    person = (await account_service.get_by_username(username)).actor
    if await follows.unfollow_local(security.current_account().actor, person):
        await flash(_("You no longer follow %(name)s.", name=person.name))
    return redirect(url_for("users.show", username=username))
