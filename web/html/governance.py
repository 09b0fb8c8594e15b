"""A circle's decisions: open proposals, voting, and the decision log."""

from __future__ import annotations

import datetime as dt

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models import clock
from models.circles import Circle
from models.errors import DomainError, InvalidInput
from models.governance import DecisionRule, Proposal, ProposalKind, ProposalState, VoteChoice
from models.services import circles as circle_service
from models.services import governance, governance_decisions, roles
from web import security
from web.html import textdiff
from web.html.forms import form_error, page_param, preview, wants_preview
from web.i18n import _, date_format
from web.site import site

bp = Blueprint("governance", __name__)
DEADLINE_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
DEFAULT_VOTING_TIME = dt.timedelta(days=7)


def _local_time(circle: Circle):
    """A formatter for templates: a moment in the circle's time zone."""
    zone = circle.zone
    return lambda moment: f"{date_format(moment, 'datetime', zone)} ({circle.timezone})"


def _deadline(raw: str, circle: Circle) -> dt.datetime | None:
    """The date-time typed in the form, read in the circle's time zone."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        moment = dt.datetime.strptime(raw[:16], DEADLINE_FORMAT)
    except ValueError:
        raise InvalidInput("Enter the deadline as a date and time, such as 2026-12-01T18:00.",
                           field="closes_at") from None
    return moment.replace(tzinfo=circle.zone)


@bp.get("/c/<handle>/decisions")
async def decisions(handle: str):
    circle = await circle_service.get_circle(handle)
    account, is_member = security.current_account(), await security.viewer_is_member(circle)
    page = page_param(request.args.get("page"))
    proposals = await governance.open_proposals(circle)
    log = await governance.decision_log(
        circle, offset=(page - 1) * governance.LOG_PAGE, limit=governance.LOG_PAGE + 1
    )
    ids = [p.id for p in proposals]
    return await render_template(
        "governance/decisions.html",
        circle=circle,
        is_member=is_member,
        is_facilitator=bool(account) and circle.actor.local and await _is_facilitator(circle, account.actor),
        proposals=proposals,
        tallies=await governance.tallies(ids),
        my_votes=await governance.votes_of(account.actor, ids) if account else {},
        log=log[: governance.LOG_PAGE],
        page=page,
        has_more=len(log) > governance.LOG_PAGE,
        local_time=_local_time(circle),
        empty_tally=governance.Tally(),
    )


async def _is_facilitator(circle: Circle, actor) -> bool:
    try:
        await roles.require_facilitator(circle, actor)
    except DomainError:
        return False
    return True


async def _new_form_context(circle: Circle) -> dict:
    account = security.current_account()
    return {
        "circle": circle,
        "kinds": list(ProposalKind),
        "rules": list(DecisionRule),
        "zone": circle.timezone,
        "defaults": await governance.settings_for(circle),
        # Only stewards choose another rule or a higher quorum for one proposal.
        "may_choose_rule": bool(account) and await circle_service.is_steward(circle, account.actor),
    }


@bp.get("/c/<handle>/proposals/new")
@security.login_required
async def new(handle: str):
    circle = await circle_service.get_circle(handle)
    defaults = await governance.settings_for(circle)
    deadline = (clock.now() + DEFAULT_VOTING_TIME).astimezone(circle.zone).strftime(DEADLINE_FORMAT)
    values = {"kind": ProposalKind.FREE_TEXT.value, "decision_rule": defaults.decision_rule.value,
              "quorum": str(defaults.quorum), "closes_at": deadline}
    return await render_template("governance/new.html", values=values, errors={}, **await _new_form_context(circle))


@bp.post("/c/<handle>/proposals/new")
@security.login_required
async def create(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if wants_preview(form):
        return await preview("governance/new.html", form, **await _new_form_context(circle))
    try:
        proposal = await governance.propose(
            site().instance,
            security.current_account().actor,
            circle,
            kind=form.get("kind", ""),
            title=form.get("title", ""),
            body=form.get("body", ""),
            value=form.get("value", ""),
            closes_at=_deadline(form.get("closes_at", ""), circle),
            decision_rule=form.get("decision_rule") or None,
            quorum=form.get("quorum", ""),
        )
    except DomainError as error:
        return await form_error("governance/new.html", error, form, **await _new_form_context(circle))
    await flash(_("Your proposal is open for votes."))
    return redirect(url_for("governance.show", post_id=proposal.post_id))


async def _proposal_context(post_id: int) -> dict:
    proposal = await governance.get_proposal(post_id)
    circle = proposal.circle
    account, is_member = security.current_account(), await security.viewer_is_member(circle)
    my_vote = (await governance.votes_of(account.actor, [proposal.id])).get(proposal.id) if account else None
    return {
        "comparison": _comparison(proposal, circle),
        "decided_early": governance_decisions.decided_early(proposal),
        "proposal": proposal,
        "post": proposal.post,
        "circle": circle,
        "is_member": is_member,
        "is_open": proposal.state is ProposalState.OPEN and clock.now() < proposal.closes_at,
        "tally": (await governance.tallies([proposal.id])).get(proposal.id, governance.Tally()),
        "my_vote": my_vote,
        "choices": list(VoteChoice),
        "local_time": _local_time(circle),
    }


def _comparison(proposal: Proposal, circle: Circle) -> textdiff.Comparison | None:
    """While a change of rules or purpose is open: what it would change."""
    if proposal.state is not ProposalState.OPEN:
        return None  # once decided, the circle's text may be the proposal's own
    if proposal.kind is ProposalKind.RULES:
        return textdiff.compare(circle.rules, proposal.value_text)
    if proposal.kind is ProposalKind.PURPOSE:
        return textdiff.compare(circle.purpose, proposal.value_text)
    return None


@bp.get("/proposals/<int:post_id>")
async def show(post_id: int):
    context = await _proposal_context(post_id)
    mine = context["my_vote"]
    values = {"choice": mine.choice.value, "reason": mine.reason} if mine else {}
    return await render_template("governance/show.html", values=values, errors={}, **context)


@bp.post("/proposals/<int:post_id>/vote")
@security.login_required
async def vote(post_id: int):
    form = await request.form
    proposal = await governance.get_proposal(post_id)
    try:
        await governance.vote(site().instance, proposal, security.current_account().actor, form.get("choice", ""),
                              reason=form.get("reason", ""))
    except DomainError as error:
        return await form_error("governance/show.html", error, form, **await _proposal_context(post_id))
    if proposal.state is ProposalState.OPEN:
        await flash(_("Your vote is counted. You can change it until voting closes."))
    elif proposal.state is ProposalState.PASSED:
        await flash(_("Your vote is counted. Everyone has voted, so the proposal is decided: it passed."))
    else:
        await flash(_("Your vote is counted. Everyone has voted, so the proposal is decided: it did not pass."))
    return redirect(url_for("governance.show", post_id=post_id))


@bp.post("/proposals/<int:post_id>/withdraw")
@security.login_required
async def withdraw(post_id: int):
    proposal = await governance.get_proposal(post_id)
    await governance.withdraw(proposal, security.current_account().actor)
    await flash(_("You have withdrawn your proposal."))
    return redirect(url_for("governance.decisions", handle=proposal.circle.handle))


# --- the circle's defaults (facilitators only) ------------------------------------------


async def _require_facilitator(circle: Circle):
    await roles.require_facilitator(circle, security.current_account().actor)


@bp.get("/c/<handle>/decisions/settings")
@security.login_required
async def settings_form(handle: str):
    circle = await circle_service.get_circle(handle)
    await _require_facilitator(circle)
    current = await governance.settings_for(circle)
    values = {"decision_rule": current.decision_rule.value, "quorum": str(current.quorum),
              "moderators_by_proposal": "1" if current.moderators_by_proposal else ""}
    return await render_template("governance/settings.html", circle=circle, rules=list(DecisionRule),
                                 values=values, errors={})


@bp.post("/c/<handle>/decisions/settings")
@security.login_required
async def save_settings(handle: str):
    circle = await circle_service.get_circle(handle)
    await _require_facilitator(circle)
    form = await request.form
    try:
        # The checkbox is on the form only while it may change (models/services/governance.py).
        shown = form.get("moderators_by_proposal_shown") == "1"
        await governance.set_defaults(
            circle, security.current_account().actor, decision_rule=form.get("decision_rule", ""),
            quorum=form.get("quorum", ""), moderators_by_proposal=form.get("moderators_by_proposal") == "1" if shown else None,
        )
    except DomainError as error:
        return await form_error("governance/settings.html", error, form, circle=circle, rules=list(DecisionRule))
    await flash(_("New proposals now start from these defaults."))
    return redirect(url_for("governance.decisions", handle=handle))
