"""Circle invitation links: the facilitators' page to make, list and revoke
them, and the page a link opens, where a signed-in person joins."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.errors import DomainError
from models.services import circle_invites
from models.services import circles as circle_service
from web import security
from web.html.forms import form_error
from web.html.people import find_actor
from web.i18n import N_, _
from web.site import site

bp = Blueprint("circle_invites", __name__)

EXPIRY_LABELS = {"1": N_("One day"), "7": N_("One week"), "30": N_("30 days"), "never": N_("Until I revoke it")}
USES_LABELS = {"1": N_("One person"), "5": N_("5 people"), "25": N_("25 people"), "unlimited": N_("Any number of people")}
CHOICES = {"expiry_labels": EXPIRY_LABELS, "uses_labels": USES_LABELS}


def _link(token: str) -> str:
    return site().instance.base_url + url_for("circle_invites.show", token=token)


async def _page(handle: str, *, link: str | None = None, values=None, errors=None, status: int = 200):
    circle = await circle_service.get_circle(handle)
    invites = await circle_invites.list_for(circle, security.current_account().actor)
    html = await render_template(
        "circles/invites.html", circle=circle, invites=invites, link=link,
        values=values or {"expires": "7", "uses": "1"}, errors=errors or {}, **CHOICES,
    )
    return html, status


@bp.get("/c/<handle>/invites")
@security.login_required
async def index(handle: str):
    return await _page(handle)


@bp.post("/c/<handle>/invites")
@security.login_required
async def create(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    actor = security.current_account().actor
    try:
        _invite, token = await circle_invites.create(
            circle, actor, expires=form.get("expires", ""), uses=form.get("uses", "")
        )
    except DomainError as error:
        invites = await circle_invites.list_for(circle, actor)
        return await form_error("circles/invites.html", error, form, circle=circle, invites=invites, link=None,
                                **CHOICES)
    return await _page(handle, link=_link(token))


@bp.post("/c/<handle>/invites/person")
@security.login_required
async def invite_person(handle: str):
    """Invite one person by handle: here, through their notifications;
    elsewhere, with an Invite (and a direct message on Mastodon and its kin)."""
    circle = await circle_service.get_circle(handle)
    form = await request.form
    actor = security.current_account().actor
    await circle_invites.require_facilitator(circle, actor)  # before any lookup on another server
    try:
        handle_typed = form.get("handle", "").strip()
        if handle_typed and "@" not in handle_typed.lstrip("@"):  # a bare name: someone here
            handle_typed = f"{handle_typed.lstrip('@')}@{site().instance.domain}"
        person = await find_actor(handle_typed)
        invite = await circle_invites.invite_person(circle, actor, person)
    except DomainError as error:
        invites = await circle_invites.list_for(circle, actor)
        return await form_error("circles/invites.html", error, form, circle=circle, invites=invites, link=None,
                                **CHOICES)
    person = invite.invitee
    if person.local:
        await flash(_("%(name)s is invited: they will find it in their notifications.", name=person.name))
    else:
        await flash(_("%(name)s is invited: their server, %(domain)s, is sent the invitation. They join by "
                      "following the circle from there.", name=person.name, domain=person.domain))
    return redirect(url_for("circle_invites.index", handle=handle))


@bp.post("/c/<handle>/invites/<int:invite_id>/revoke")
@security.login_required
async def revoke(handle: str, invite_id: int):
    circle = await circle_service.get_circle(handle)
    await circle_invites.revoke(circle, security.current_account().actor, invite_id)
    await flash(_("The link no longer works."))
    return redirect(url_for("circle_invites.index", handle=handle))


@bp.get("/invite/<token>")
async def show(token: str):
    invite = await circle_invites.find(token)
    account = security.current_account()
    membership = await circle_service.membership(invite.circle, account.actor) if account else None
    return await render_template("circles/invite.html", invite=invite, circle=invite.circle, token=token,
                                 membership=membership)


@bp.post("/invite/<token>")
@security.login_required
async def accept(token: str):
    member = await circle_invites.accept(token, security.current_account().actor)
    circle = member.circle
    await flash(_("Welcome to %(circle)s!", circle=circle.name))
    return redirect(url_for("circles.show", handle=circle.handle))
