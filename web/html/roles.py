"""Giving and taking the moderator role from the members page (issue 11)."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, url_for

from models.circles import Membership, MembershipState, Role
from models.errors import NotFound
from models.services import circles as circle_service
from models.services import roles
from web import security
from web.i18n import _

bp = Blueprint("roles", __name__)


@bp.post("/c/<handle>/members/<int:member_id>/moderator")
@security.login_required
async def give(handle: str, member_id: int):
    circle = await circle_service.get_circle(handle)
    member = await roles.give_moderator(circle, security.current_account().actor, member_id)
    await flash(_("%(name)s is now a moderator of the circle.", name=member.actor.name))
    return redirect(url_for("circles.members", handle=handle))


@bp.get("/c/<handle>/members/<int:member_id>/moderator/remove")
@security.login_required
async def confirm_take(handle: str, member_id: int):
    circle = await circle_service.get_circle(handle)
    await roles.require_facilitator(circle, security.current_account().actor)
    member = await Membership.get_or_none(
        id=member_id, circle=circle, state=MembershipState.ACTIVE, role=Role.MODERATOR
    ).select_related("actor")
    if member is None:
        raise NotFound("That person is not a moderator of this circle.")
    return await render_template("circles/take_moderator.html", circle=circle, member=member)


@bp.post("/c/<handle>/members/<int:member_id>/moderator/remove")
@security.login_required
async def take(handle: str, member_id: int):
    circle = await circle_service.get_circle(handle)
    member = await roles.take_moderator(circle, security.current_account().actor, member_id)
    await flash(_("%(name)s is no longer a moderator.", name=member.actor.name))
    return redirect(url_for("circles.members", handle=handle))


@bp.get("/c/<handle>/facilitate")
@security.login_required
async def confirm_take_on(handle: str):
    circle = await circle_service.get_circle(handle)
    await circle_service.require_member(circle, security.current_account().actor)
    return await render_template("circles/take_on.html", circle=circle,
                                 needed=await roles.needs_facilitator(circle))


@bp.post("/c/<handle>/facilitate")
@security.login_required
async def take_on(handle: str):
    circle = await circle_service.get_circle(handle)
    await roles.take_on(circle, security.current_account().actor)
    await flash(_("Thank you: you are now the facilitator of %(circle)s.", circle=circle.name))
    return redirect(url_for("circles.members", handle=handle))
