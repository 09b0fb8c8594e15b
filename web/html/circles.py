"""Circle directory, creation, the circle page, and membership actions."""

from __future__ import annotations

from quart import Blueprint, current_app, flash, redirect, render_template, request, url_for

from federation import keys, parse, webfinger
from federation.fetch import FetchError
from models.actors import ActorKind
from models.circles import JoinMode, MembershipState, Role
from models.errors import DomainError, InvalidInput, NotFound
from models.services import circles as circle_service
from models.services import feed_cards, follows, governance
from models.services import posts as post_service
from models.services import questions as question_service
from web import security
from web.html import confirm
from web.html.circle_header import is_active_steward, viewer_membership
from web.html.forms import form_error, page_number, page_param, preview, wants_preview
from web.html.media import media_store, uploaded_image
from web.i18n import N_, _
from web.site import site

bp = Blueprint("circles", __name__)
DIRECTORY_PAGE = 30


JOIN_LABELS = {
    JoinMode.OPEN.value: N_("Anyone, at once"),
    JoinMode.APPROVAL.value: N_("Anyone who asks, once a facilitator approves"),
    JoinMode.INVITE.value: N_("Only people a facilitator invites"),
}
FILTER_FIELDS = ("q", "topic", "language", "place", "join_mode", "timezone")


@bp.get("/circles")
async def directory():
    args = {name: request.args.get(name, "")[:120] for name in FILTER_FIELDS}
    return await render_template("circles/directory.html", **await _directory_context(args))


async def _directory_context(args: dict[str, str]) -> dict:
    filters = circle_service.DirectoryFilter(
        query=args["q"], topic=args["topic"], language=args["language"], place=args["place"],
        join_mode=args["join_mode"], timezone=args["timezone"],
    )
    page = page_param(request.args.get("page"))
    circles = await circle_service.list_circles(
        filters, offset=(page - 1) * DIRECTORY_PAGE, limit=DIRECTORY_PAGE + 1
    )
    has_more, circles = len(circles) > DIRECTORY_PAGE, circles[:DIRECTORY_PAGE]
    return {
        "circles": circles, "filters": filters, "join_labels": JOIN_LABELS, "page": page,
        "filter_args": {name: value for name, value in args.items() if value},
        "topics": await circle_service.topics_by_circle(circles),
        "timezones": await circle_service.directory_timezones(),
        "has_more": has_more,
    }


@bp.post("/circles/follow")
@security.login_required
async def follow_remote():
    """Join a circle on another server by its handle (@name@example.org)."""
    form = await request.form
    fed = current_app.extensions["circles.federation"]
    try:
        uri = await webfinger.lookup(fed, form.get("handle", ""))
        group = await keys.resolve_actor(fed, uri)
        if group.kind is not ActorKind.GROUP:
            raise InvalidInput("That handle is a person, not a circle.", field="handle")
        await follows.follow_remote(security.current_account().actor, group, instance_base_url=site().instance.base_url)
    except (FetchError, parse.InvalidDocument) as error:
        return await _directory_error(form, InvalidInput("Could not reach that circle: %(error)s", field="handle", error=str(error)))
    except DomainError as error:
        return await _directory_error(form, error)
    circle = await circle_service.get_circle_by_actor(group)
    await flash(_("Asked to join %(circle)s; you are a member once it answers.", circle=circle.name))
    return redirect(url_for("circles.show", handle=circle.handle))


async def _directory_error(form, error: DomainError):
    context = await _directory_context(dict.fromkeys(FILTER_FIELDS, ""))
    return await form_error("circles/directory.html", error, form, **context)


@bp.get("/circles/new")
@security.login_required
async def new():
    return await render_template("circles/new.html", values=PROFILE_DEFAULTS, errors={}, **PROFILE_CHOICES)


PROFILE_FIELDS = (
    "name", "purpose", "rules", "join_mode", "language", "location", "timezone",
    "meeting_cadence", "size_limit", "topics",
)
PROFILE_CHOICES = {"join_modes": list(JoinMode), "join_labels": JOIN_LABELS}


PROFILE_DEFAULTS = {"join_mode": JoinMode.OPEN.value, "language": "en", "timezone": "UTC"}


def _profile_args(form) -> dict[str, str]:
    return {name: form.get(name, PROFILE_DEFAULTS.get(name, "")) for name in PROFILE_FIELDS}


@bp.post("/circles/new")
@security.login_required
async def create():
    form = await request.form
    try:
        circle = await circle_service.create_circle(
            site().instance,
            security.current_account(),
            handle=form.get("handle", ""),
            visibility=form.get("visibility", "public"),
            **_profile_args(form),
        )
    except DomainError as error:
        return await form_error("circles/new.html", error, form, **PROFILE_CHOICES)
    await flash(_("Your circle “%(circle)s” is ready. Invite people to join it!", circle=circle.name))
    return redirect(url_for("circles.show", handle=circle.handle))


@bp.get("/c/<handle>")
async def show(handle: str):
    circle = await circle_service.get_circle(handle)
    account = security.current_account()
    membership = await viewer_membership(circle)  # shared with the header
    is_steward = is_active_steward(membership)
    before = page_number(request.args.get("before"))
    posts = await post_service.list_circle_posts(
        circle, seen_by=account.actor if account else None, before_id=before, limit=post_service.PAGE_SIZE + 1
    )
    pending = await circle_service.list_members(circle, state=MembershipState.PENDING) if is_steward else []
    return await render_template(
        "circles/show.html",
        circle=circle,
        membership=membership,
        is_member=bool(membership and membership.state is MembershipState.ACTIVE),
        is_steward=is_steward,
        posts=posts[: post_service.PAGE_SIZE],
        card_details=await feed_cards.card_details(posts[: post_service.PAGE_SIZE]),
        next_before=posts[post_service.PAGE_SIZE - 1].id if len(posts) > post_service.PAGE_SIZE else None,
        pending=pending,
    )


@bp.get("/c/<handle>/about")
async def about(handle: str):
    circle = await circle_service.get_circle(handle)
    return await render_template(
        "circles/about.html", circle=circle, join_labels=JOIN_LABELS,
        topics=await circle_service.topics_of(circle),
        rules=circle_service.numbered_rules(circle.rules),
        is_steward=await _is_steward(circle),
    )


async def _is_steward(circle) -> bool:
    account = security.current_account()
    return bool(account) and await circle_service.is_steward(circle, account.actor)


@bp.get("/c/<handle>/settings")
@security.login_required
async def settings(handle: str):
    circle = await circle_service.get_circle(handle)
    await circle_service.require_steward(circle, security.current_account().actor)
    values = {name: getattr(circle, name) for name in PROFILE_FIELDS if name != "topics"}
    values["join_mode"] = circle.join_mode.value
    values["size_limit"] = circle.size_limit or ""
    values["topics"] = " ".join(f"#{tag}" for tag in await circle_service.topics_of(circle))
    return await render_template("circles/settings.html", values=values, errors={}, **_settings_context(circle))


def _settings_context(circle) -> dict:
    return {"circle": circle, "charter_adopted": circle.charter_adopted_at is not None, **PROFILE_CHOICES}


@bp.post("/c/<handle>/settings")
@security.login_required
async def save_settings(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    args = _profile_args(form)
    if circle.charter_adopted_at is not None:
        args["rules"] = circle.rules  # the charter is not on this form
    try:
        await circle_service.update_profile(circle, security.current_account().actor, **args)
    except DomainError as error:
        return await form_error("circles/settings.html", error, form, **_settings_context(circle))
    await flash(_("The circle's profile is saved."))
    return redirect(url_for("circles.about", handle=handle))


@bp.post("/c/<handle>/charter/adopt")
@security.login_required
async def adopt_charter(handle: str):
    circle = await circle_service.get_circle(handle)
    await circle_service.adopt_charter(circle, security.current_account().actor)
    await flash(_("The rules are now the circle's charter: from here on, members change them with a proposal."))
    return redirect(url_for("circles.about", handle=handle))


@bp.get("/c/<handle>/members")
async def members(handle: str):
    circle = await circle_service.get_circle(handle)
    page = page_param(request.args.get("page"))
    rows = await circle_service.list_members(circle, offset=(page - 1) * 100, limit=101)
    account = security.current_account()
    mine = await circle_service.membership(circle, account.actor) if account else None
    facilitates = bool(circle.actor.local and mine and mine.state is MembershipState.ACTIVE
                       and mine.role is Role.FACILITATOR)
    by_proposal = facilitates and (await governance.settings_for(circle)).moderators_by_proposal
    return await render_template(
        "circles/members.html", circle=circle, members=rows[:100], page=page, has_more=len(rows) > 100,
        can_give_roles=facilitates and not by_proposal, moderators_by_proposal=by_proposal,
        credits=await question_service.answer_credits(circle, [m.actor_id for m in rows[:100]]),
    )


@bp.post("/c/<handle>/join")
@security.login_required
async def join(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    actor = security.current_account().actor
    if not circle.actor.local:
        await follows.follow_remote(actor, circle.actor, instance_base_url=site().instance.base_url)
        await flash(_("Asked to join %(circle)s; you are a member once it answers.", circle=circle.name))
        return redirect(url_for("circles.show", handle=handle))
    member = await circle_service.join(circle, actor, request_text=form.get("request_text", ""))
    if member.state is MembershipState.ACTIVE:
        await flash(_("You have joined %(circle)s. Say hello!", circle=circle.name))
    else:
        await flash(_("Your request to join has been sent to the circle's facilitators."))
    return redirect(url_for("circles.show", handle=handle))


@bp.post("/c/<handle>/leave")
@security.login_required
async def leave(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if not confirm.confirmed(form):
        member = await circle_service.membership(circle, security.current_account().actor)
        if circle.actor.local and (member is None or member.state is MembershipState.BANNED):
            raise NotFound(_("You are not a member of this circle."))
        return await confirm.ask(confirm.Question(
            title=_("Leave %(circle)s?", circle=circle.name),
            consequence=_("You will no longer be a member: you cannot post or vote here, and your votes on open "
                          "proposals are withdrawn. What you wrote stays in the circle."),
            audience=_("The circle's members see that you are no longer among them; you can ask to join again."),
            yes=_("Yes, leave the circle"), back_url=url_for("circles.show", handle=handle),
        ), form)
    if circle.actor.local:
        await circle_service.leave(circle, security.current_account().actor, instance=site().instance)
    else:
        await follows.unfollow_remote(security.current_account().actor, circle.actor)
    await flash(_("You have left %(circle)s.", circle=circle.name))
    return redirect(url_for("circles.show", handle=handle))


@bp.post("/c/<handle>/requests/<int:membership_id>/<any(approve, reject):decision>")
@security.login_required
async def decide_request(handle: str, membership_id: int, decision: str):
    circle = await circle_service.get_circle(handle)
    actor = security.current_account().actor
    if decision == "approve":
        member = await circle_service.approve(circle, actor, membership_id)
        await flash(_("@%(username)s is now a member.", username=member.actor.username))
    else:
        await circle_service.reject(circle, actor, membership_id)
        await flash(_("The request has been declined."))
    return redirect(url_for("circles.show", handle=handle))


@bp.get("/c/<handle>/posts/new")
@security.login_required
async def new_post(handle: str):
    circle = await circle_service.get_circle(handle)
    return await render_template("posts/new.html", circle=circle, values={}, errors={})


@bp.post("/c/<handle>/posts/new")
@security.login_required
async def create_post(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if wants_preview(form):
        return await preview("posts/new.html", form, circle=circle)
    try:
        post = await post_service.create_post(
            site().instance,
            security.current_account().actor,
            circle,
            title=form.get("title", ""),
            body=form.get("body", ""),
            image=await uploaded_image(form),
            media_store=media_store(),
        )
    except DomainError as error:
        return await form_error("posts/new.html", error, form, circle=circle)
    return redirect(url_for("posts.show", post_id=post.id))
