"""Meetings: a circle's list and iCalendar feed, scheduling, the meeting page
with RSVP buttons, "my meetings" with a secret calendar link."""

from __future__ import annotations

import zoneinfo

from quart import Blueprint, Response, flash, redirect, render_template, request, url_for

from models import clock
from models.errors import DomainError
from models.meetings import Meeting, RsvpAnswer
from models.services import circles as circle_service
from models.services import meetings as meeting_service
from models.text import plain_excerpt
from web import ical, security
from web.html import confirm
from web.html.forms import form_error, page_param, preview, wants_preview
from web.i18n import N_, _, date_format
from web.site import site

bp = Blueprint("meetings", __name__)
FIELDS = ("title", "agenda", "starts_local", "ends_local", "timezone", "place", "online_url", "capacity")
ANSWER_LABELS = {RsvpAnswer.GOING: N_("Going"), RsvpAnswer.MAYBE: N_("Maybe"), RsvpAnswer.NOT_GOING: N_("Not going")}


@bp.app_template_filter("meeting_time")
def meeting_time(moment, zone_name: str) -> str:
    """A UTC moment shown in the meeting's own zone, with the zone's name."""
    return f"{date_format(moment, 'weekday_datetime', zoneinfo.ZoneInfo(zone_name))} ({zone_name})"


def _typed(form) -> dict:
    return {name: form.get(name, "") for name in FIELDS}


@bp.get("/c/<handle>/meetings")
async def circle_meetings(handle: str):
    circle = await circle_service.get_circle(handle)
    page, past_page = page_param(request.args.get("page")), page_param(request.args.get("past_page"))
    upcoming = await meeting_service.upcoming_in(circle, page=page)
    past = await meeting_service.past_in(circle, page=past_page)
    size = meeting_service.PAGE_SIZE
    return await render_template(
        "meetings/index.html", circle=circle, is_member=await security.viewer_is_member(circle),
        upcoming=upcoming[:size], page=page, more_upcoming=len(upcoming) > size,
        past=past[:size], past_page=past_page, more_past=len(past) > size,
    )


@bp.get("/c/<handle>/meetings/new")
@security.login_required
async def new(handle: str):
    circle = await circle_service.get_circle(handle)
    return await render_template(
        "meetings/form.html", circle=circle, meeting=None, values={"timezone": circle.timezone}, errors={}
    )


@bp.post("/c/<handle>/meetings/new")
@security.login_required
async def create(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if wants_preview(form):
        return await preview("meetings/form.html", form, circle=circle, meeting=None)
    try:
        meeting = await meeting_service.schedule(
            site().instance, security.current_account().actor, circle, **_typed(form)
        )
    except DomainError as error:
        return await form_error("meetings/form.html", error, form, circle=circle, meeting=None)
    await flash(_("Your meeting is scheduled. Members can now say whether they come."))
    return redirect(url_for("meetings.show", post_id=meeting.post_id))


async def _page_context(meeting: Meeting) -> dict:
    account = security.current_account()
    actor = account.actor if account else None
    can_manage = False
    if actor is not None and not meeting.cancelled_at:
        can_manage = meeting.post.author_id == actor.id or await circle_service.is_steward(meeting.circle, actor)
    return {
        "meeting": meeting,
        "post": meeting.post,
        "circle": meeting.circle,
        "going": await meeting_service.attendees(meeting),
        "my_answer": await meeting_service.answer_of(meeting, actor) if actor else None,
        "can_answer": await security.viewer_is_member(meeting.circle),
        "can_manage": can_manage,
        "answers": ANSWER_LABELS,
        "is_over": meeting.ends_at <= clock.now(),
    }


@bp.get("/meetings/<int:post_id>")
async def show(post_id: int):
    meeting = await meeting_service.meeting_for_post(post_id)
    return await render_template("meetings/show.html", values={}, errors={}, **await _page_context(meeting))


@bp.post("/meetings/<int:post_id>/rsvp")
@security.login_required
async def answer(post_id: int):
    meeting = await meeting_service.meeting_for_post(post_id)
    form = await request.form
    try:
        await meeting_service.rsvp(security.current_account().actor, meeting, form.get("answer", ""))
    except DomainError as error:
        return await form_error("meetings/show.html", error, form, **await _page_context(meeting))
    await flash(_("Thanks, your answer is saved."))
    return redirect(url_for("meetings.show", post_id=post_id))


@bp.get("/meetings/<int:post_id>/edit")
@security.login_required
async def edit_form(post_id: int):
    meeting = await meeting_service.meeting_for_post(post_id)
    await meeting_service.require_organiser(security.current_account().actor, meeting)  # no form one cannot send
    zone = zoneinfo.ZoneInfo(meeting.timezone)
    values = {
        "title": meeting.post.title, "agenda": meeting.post.source, "timezone": meeting.timezone,
        "starts_local": meeting.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "ends_local": meeting.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "place": meeting.place, "online_url": meeting.online_url or "",
        "capacity": "" if meeting.capacity is None else str(meeting.capacity),
    }
    return await render_template("meetings/form.html", circle=meeting.circle, meeting=meeting, values=values, errors={})


@bp.post("/meetings/<int:post_id>/edit")
@security.login_required
async def edit(post_id: int):
    meeting = await meeting_service.meeting_for_post(post_id)
    form = await request.form
    if wants_preview(form):
        return await preview("meetings/form.html", form, circle=meeting.circle, meeting=meeting)
    try:
        await meeting_service.edit(security.current_account().actor, meeting, **_typed(form))
    except DomainError as error:
        return await form_error("meetings/form.html", error, form, circle=meeting.circle, meeting=meeting)
    await flash(_("The meeting has been updated."))
    return redirect(url_for("meetings.show", post_id=post_id))


@bp.post("/meetings/<int:post_id>/cancel")
@security.login_required
async def cancel(post_id: int):
    meeting = await meeting_service.meeting_for_post(post_id)
    form = await request.form
    if not confirm.confirmed(form):
        await meeting_service.require_organiser(security.current_account().actor, meeting)
        return await confirm.ask(confirm.Question(
            title=_("Cancel this meeting?"),
            consequence=_("The meeting stays on the circle's page, marked cancelled, and nobody can say they "
                          "will come any more. This cannot be undone: plan a new meeting instead."),
            audience=_("Everyone who can see the circle sees it cancelled, and people who said they would come "
                       "are told, here and on other servers."),
            yes=_("Yes, cancel the meeting"), back_url=url_for("meetings.show", post_id=post_id),
        ), form)
    await meeting_service.cancel(security.current_account().actor, meeting)
    await flash(_("The meeting is cancelled; members see it marked so."))
    return redirect(url_for("meetings.show", post_id=post_id))


@bp.get("/meetings")
@security.login_required
async def mine():
    return await _mine_page(calendar_url=None)


@bp.post("/meetings/calendar-link")
@security.login_required
async def calendar_link():
    account = security.current_account()
    token = await meeting_service.new_calendar_token(account)
    url = site().instance.base_url + url_for("meetings.member_calendar", username=account.actor.username, token=token)
    return await _mine_page(calendar_url=url)


async def _mine_page(*, calendar_url: str | None):
    account = security.current_account()
    return await render_template(
        "meetings/mine.html", meetings=await meeting_service.next_meetings_for(account.actor),
        calendar_url=calendar_url, has_link=await meeting_service.has_calendar_link(account),
    )


# --- iCalendar feeds -----------------------------------------------------------------


def _calendar_event(meeting: Meeting) -> ical.CalendarEvent:
    post = meeting.post
    url = post.url or (site().instance.base_url + url_for("meetings.show", post_id=post.id) if post.local else post.uri)
    location = ", ".join(part for part in (meeting.place, meeting.online_url or "") if part)
    return ical.CalendarEvent(
        uid=post.uri, summary=post.title or plain_excerpt(post.content, 80),
        starts_at=meeting.starts_at, ends_at=meeting.ends_at,
        stamp=meeting.updated_at or post.updated_at or post.published_at,
        description=post.source if post.local else plain_excerpt(post.content, 5000),
        location=location, url=url, cancelled=meeting.cancelled_at is not None,
    )


def _calendar_response(name: str, meetings: list[Meeting]) -> Response:
    body = ical.calendar(name, [_calendar_event(m) for m in meetings])
    return Response(body, content_type="text/calendar; charset=utf-8", headers={"Cache-Control": "private, max-age=300"})


@bp.get("/c/<handle>/meetings.ics")
async def circle_calendar(handle: str):
    circle = await circle_service.get_circle(handle)
    return _calendar_response(f"{circle.name} meetings", await meeting_service.calendar_of_circle(circle))


@bp.get("/users/<username>/meetings.ics")
async def member_calendar(username: str):
    account = await meeting_service.account_for_calendar(username, request.args.get("token"))
    return _calendar_response(
        f"{account.actor.name}'s meetings", await meeting_service.calendar_of_member(account.actor)
    )
