"""Self-governance: members propose changes to their circle, vote, and the
worker decides each proposal at its deadline and applies what passed. A
proposal every member has voted on is decided at once, the same way: waiting
for the deadline could change nothing (governance_decisions.py).

Every entrance (web form, remote poll vote) comes through here, so the rules
are the same for everyone."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle, JoinMode, Membership, MembershipState, Role, Visibility
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.governance import (
    ACTOR_KINDS,
    PROPOSAL_TRANSITIONS,
    DecisionRule,
    GovernanceSettings,
    Proposal,
    ProposalKind,
    ProposalState,
    Vote,
    VoteChoice,
)
from models.instance import Instance
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services import governance_decisions
from models.services import posts as post_service
from models.services import notification_events, validation
from models.translation import N_
from models.text import render_markdown

TITLE_MAX = 200
REASON_MAX = 1000
log = logging.getLogger(__name__)
SHORTEST = dt.timedelta(hours=1)
SHORTEST_FOR_ROLES = dt.timedelta(hours=24)  # who facilitates: everyone gets a day to notice
LONGEST = dt.timedelta(days=60)
LOG_PAGE = 20
CLOSE_BATCH = 50


@dataclass(frozen=True)
class Tally:
    yes: int = 0
    no: int = 0
    abstain: int = 0
    block: int = 0

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain + self.block

    def of(self, choice: VoteChoice) -> int:
        return getattr(self, choice.value)


# --- settings --------------------------------------------------------------------------


async def settings_for(circle: Circle) -> GovernanceSettings:
    """The circle's defaults for new proposals (unsaved defaults when never set)."""
    stored = await GovernanceSettings.get_or_none(circle_id=circle.id)
    return stored or GovernanceSettings(circle_id=circle.id)


async def set_defaults(
    circle: Circle, by: Actor, *, decision_rule: str, quorum: int | str, moderators_by_proposal: bool | None = None
) -> GovernanceSettings:
    """A steward sets the defaults new proposals start from and, with
    `moderators_by_proposal`, whether moderators change only by proposal:
    that may be switched on at any time, but off only before the circle
    adopts its charter (the charter binds the facilitators too)."""
    await circle_service.require_steward(circle, by)
    rule = validation.choice(decision_rule, DecisionRule, "decision_rule", label="Decision rule")
    count = await _quorum(circle, quorum)
    values = {"decision_rule": rule, "quorum": count}
    changing = moderators_by_proposal is not None and (
        moderators_by_proposal != (await settings_for(circle)).moderators_by_proposal
    )
    if changing:
        if not moderators_by_proposal and circle.charter_adopted_at is not None:
            raise PermissionDenied(CHARTER_NAMES_MODERATORS, field="moderators_by_proposal")
        values["moderators_by_proposal"] = moderators_by_proposal
    settings, _ = await GovernanceSettings.update_or_create(circle_id=circle.id, defaults=values)
    return settings


CHARTER_NAMES_MODERATORS = N_(
    "The circle's charter says moderators are chosen by proposal: that stays, and so does the way to change them."
)


async def _quorum(circle: Circle, raw: int | str | None) -> int:
    text = str(raw if raw is not None else "").strip()
    members = await Membership.filter(circle=circle, state=MembershipState.ACTIVE).count()
    value = validation.whole_number(text)
    if value is None or value > members:
        raise InvalidInput("The quorum is a whole number from 0 to %(members)d (the members of this circle).",
                           field="quorum", members=members)
    return value


# --- proposing -------------------------------------------------------------------------


async def propose(
    instance: Instance,
    proposer: Actor,
    circle: Circle,
    *,
    kind: str,
    title: str,
    body: str,
    value: str = "",
    closes_at: dt.datetime | None,
    decision_rule: str | None = None,
    quorum: int | str | None = None,
) -> Proposal:
    """A member proposes a change, decided by vote at `closes_at`. The post
    holding the title and explanation is created with it."""
    if not circle.actor.local:
        raise PermissionDenied("Proposals are made in circles hosted on this server.")
    proposal_kind = validation.choice(kind, ProposalKind, "kind", label="Kind of proposal")
    title = validation.single_line(title, "title", label="Title", max_length=TITLE_MAX, required=True)
    body = validation.text(body, "body", label="Explanation", max_length=post_service.BODY_MAX, required=True)
    await circle_service.require_member(circle, proposer)
    value_text, value_actor = await _value(circle, proposal_kind, value)
    closes_at = _deadline(closes_at, shortest=SHORTEST_FOR_ROLES if proposal_kind in ACTOR_KINDS else SHORTEST)
    defaults = await settings_for(circle)
    rule = validation.choice(decision_rule or defaults.decision_rule.value, DecisionRule, "decision_rule",
                             label="Decision rule")
    count = await _quorum(circle, defaults.quorum if quorum in (None, "") else quorum)
    await _require_rule_choice(circle, proposer, defaults, rule, count)
    async with in_transaction():
        post = await post_service.create_post(
            instance, proposer, circle, body=body, title=title, kind=PostKind.PROPOSAL.value,
        )
        proposal = await Proposal.create(
            post=post, circle=circle, proposer=proposer, kind=proposal_kind, value_text=value_text,
            value_actor=value_actor, decision_rule=rule, quorum=count, closes_at=closes_at,
        )
        await notification_events.proposal_made(proposal, post, proposer, circle)
    proposal.post = post
    return proposal


async def _require_rule_choice(
    circle: Circle, proposer: Actor, defaults: GovernanceSettings, rule: DecisionRule, quorum: int
) -> None:
    """The circle's rule and quorum apply to every proposal; only its stewards
    may choose another rule for one, and nobody a lower quorum (else one
    member could decide alone what the circle agreed to decide together)."""
    if quorum < defaults.quorum:
        raise InvalidInput("A proposal needs at least the circle's quorum of %(quorum)d votes.",
                           field="quorum", quorum=defaults.quorum)
    if (rule, quorum) != (defaults.decision_rule, defaults.quorum) and not await circle_service.is_steward(
        circle, proposer
    ):
        raise PermissionDenied("The circle's decision rule and quorum apply: only its facilitators can set "
                               "others for one proposal.", field="decision_rule")


def _deadline(closes_at: dt.datetime | None, *, shortest: dt.timedelta = SHORTEST) -> dt.datetime:
    if closes_at is None:
        raise InvalidInput("Choose when voting closes.", field="closes_at")
    if closes_at.tzinfo is None:
        raise InvalidInput("The deadline needs a time zone.", field="closes_at")
    now = clock.now()
    if closes_at < now + shortest:
        hours = int(shortest.total_seconds() // 3600)
        if hours == 1:
            raise InvalidInput("Voting on this must stay open at least 1 hour: choose a later deadline.",
                               field="closes_at")
        raise InvalidInput("Voting on this must stay open at least %(hours)d hours: choose a later deadline.",
                           field="closes_at", hours=hours)
    if closes_at > now + LONGEST:
        raise InvalidInput("Voting can stay open at most 60 days: choose an earlier deadline.", field="closes_at")
    return closes_at


async def _value(circle: Circle, kind: ProposalKind, value: str) -> tuple[str, Actor | None]:
    """The proposed value, checked for its kind: (text, member)."""
    if kind is ProposalKind.RULES:
        return validation.text(value, "value", label="The new rules", max_length=circle_service.RULES_MAX,
                               required=True), None
    if kind is ProposalKind.PURPOSE:
        return validation.text(value, "value", label="The new purpose", max_length=circle_service.PURPOSE_MAX,
                               required=True), None
    if kind is ProposalKind.JOIN_MODE:
        return validation.choice(value, JoinMode, "value", label="The join mode").value, None
    if kind is ProposalKind.VISIBILITY:
        chosen = validation.choice(value, Visibility, "value", label="Who can see the circle")
        if chosen is circle.visibility:
            raise InvalidInput("The circle is already seen that way.", field="value")
        return chosen.value, None
    if kind in ACTOR_KINDS:
        member = await _member_by_handle(circle, value)
        if kind is ProposalKind.ADD_FACILITATOR and member.role is Role.FACILITATOR:
            raise InvalidInput("@%(handle)s is a facilitator already.", field="value", handle=value.strip().lstrip('@'))
        if kind is ProposalKind.REMOVE_FACILITATOR and member.role is not Role.FACILITATOR:
            raise InvalidInput("@%(handle)s is not a facilitator.", field="value", handle=value.strip().lstrip('@'))
        if kind is ProposalKind.ADD_MODERATOR and member.role is not Role.MEMBER:
            raise InvalidInput(circle_service.ALREADY_IN_ROLE[member.role], field="value",
                               handle=value.strip().lstrip('@'))
        if kind is ProposalKind.REMOVE_MODERATOR and member.role is not Role.MODERATOR:
            raise InvalidInput("@%(handle)s is not a moderator.", field="value", handle=value.strip().lstrip('@'))
        return "", member.actor
    return "", None  # free text: the explanation says it all


async def _member_by_handle(circle: Circle, handle: str) -> Membership:
    """An active member by `name` (here) or `name@domain` (elsewhere)."""
    name, _, domain = (handle or "").strip().lstrip("@").partition("@")
    where = {"actor__domain": domain, "actor__local": False} if domain else {"actor__local": True}
    member = None
    if name and len(handle) <= 300:
        member = await Membership.filter(
            circle=circle, state=MembershipState.ACTIVE, actor__username=name, **where
        ).select_related("actor").first()
    if member is None:
        raise InvalidInput("Name an active member of this circle, such as @name or @name@example.org.",
                           field="value")
    return member


# --- voting ----------------------------------------------------------------------------


async def vote(
    instance: Instance, proposal: Proposal, voter: Actor, choice: str, *, reason: str = "", uri: str | None = None
) -> Vote:
    """A member's vote; voting again before the deadline replaces it. `uri` is
    a remote vote's id: the same remote vote twice changes nothing. A vote
    that leaves no active member still to vote decides the proposal at once;
    `proposal.state` then tells the caller."""
    chosen = validation.choice((choice or "").lower(), VoteChoice, "choice", label="Your vote")
    reason = validation.text(reason, "reason", label="Your reason", max_length=REASON_MAX,
                             required=chosen is VoteChoice.BLOCK)
    _require_open(proposal)
    circle = await proposal.circle
    await circle_service.require_member(circle, voter)
    existing = await Vote.get_or_none(proposal=proposal, voter=voter)
    if existing is not None and uri and existing.uri == uri:
        return existing
    values = {"choice": chosen, "reason": reason, "uri": uri, "updated_at": clock.now()}
    cast = None
    if existing is None:
        try:
            cast = await Vote.create(proposal=proposal, voter=voter, **values)
        except IntegrityError:  # two votes at once by the same person: the later one replaces
            existing = await Vote.get(proposal=proposal, voter=voter)
    if cast is None:
        await Vote.filter(id=existing.id).update(**values)
        await existing.refresh_from_db()
        cast = existing
    await governance_decisions.decide_if_everyone_voted(instance, proposal)
    return cast


def _require_open(proposal: Proposal) -> None:
    if proposal.state is not ProposalState.OPEN:
        raise Conflict("This proposal is %(state)s: it takes no more votes.", state=proposal.state)
    if clock.now() >= proposal.closes_at:
        raise Conflict(
            "Voting closed on %(when)s UTC; votes after the deadline do not count.",
            when=proposal.closes_at.strftime('%d %b %Y %H:%M'),
        )


async def withdraw(proposal: Proposal, by: Actor) -> Proposal:
    """The proposer takes back an open proposal."""
    if proposal.proposer_id != by.id:
        raise PermissionDenied("Only the person who made a proposal can withdraw it.")
    if proposal.state is not ProposalState.OPEN:
        raise Conflict("This proposal is %(state)s already.", state=proposal.state)
    async with in_transaction():
        await _settle(proposal, ProposalState.WITHDRAWN, "Withdrawn by the proposer before the deadline.")
    return proposal


async def _settle(proposal: Proposal, state: ProposalState, outcome: str) -> bool:
    """Move an open proposal to its final state, once even if two workers try;
    queue the poll's Update (now closed). Call in a transaction."""
    if state not in PROPOSAL_TRANSITIONS[proposal.state]:
        raise Conflict("A proposal cannot go from %(old)s to %(new)s.", old=proposal.state, new=state)
    now = clock.now()
    changed = await Proposal.filter(id=proposal.id, state=ProposalState.OPEN).update(
        state=state, decided_at=now, outcome=outcome
    )
    if not changed:
        return False
    proposal.state, proposal.decided_at, proposal.outcome = state, now, outcome
    if await Post.filter(id=proposal.post_id, deleted_at=None).exists():  # else its Delete went out already
        await OutboxEvent.create(kind="post.updated", subject_id=proposal.post_id)
    return True


# --- deciding (the worker) -------------------------------------------------------------


async def close_due(instance: Instance, now: dt.datetime) -> int:
    """Decide every open proposal whose deadline has passed; returns how many.
    One query when nothing is due."""
    due = await (
        deciding(Proposal.filter(state=ProposalState.OPEN, closes_at__lte=now))
        .order_by("closes_at", "id")
        .limit(CLOSE_BATCH)
    )
    for proposal in due:
        try:
            await decide(instance, proposal)
        except Exception:  # worker loop: one bad proposal must not hold up the others
            log.exception("cannot decide proposal %s; it stays open", proposal.id)
    return len(due)


def deciding(query):
    """What `decide` reads of a proposal, loaded with it."""
    return query.select_related("post", "circle__actor", "value_actor")


async def decide(instance: Instance, proposal: Proposal) -> None:
    """Count the votes, record the outcome, apply what passed and announce it,
    all in one transaction (at the deadline, or when everyone has voted)."""
    if proposal.post.deleted_at is not None:  # deleting its post takes the proposal back
        async with in_transaction():
            await _settle(proposal, ProposalState.WITHDRAWN, "Withdrawn: its post was deleted.")
        return
    tally = (await tallies([proposal.id])).get(proposal.id, Tally())
    state, outcome = _outcome(proposal, tally)
    async with in_transaction():
        if not await _settle(proposal, state, outcome):
            return  # another worker decided it
        if state is ProposalState.PASSED:
            problem = await _apply(proposal)
            if problem:
                outcome = f"{outcome} It could not be applied: {problem}"
                await Proposal.filter(id=proposal.id).update(outcome=outcome)
                proposal.outcome = outcome
        await _outcome_post(instance, proposal.circle, proposal.post, outcome)
        await notification_events.proposal_decided(proposal, proposal.post, proposal.circle)


def _outcome(proposal: Proposal, tally: Tally) -> tuple[ProposalState, str]:
    title = proposal.post.title
    if tally.cast < max(proposal.quorum, 1):  # silence decides nothing, even under consent
        return ProposalState.REJECTED, (
            f"Proposal “{title}” rejected: quorum not met ({tally.cast} of {max(proposal.quorum, 1)} votes cast)."
        )
    if proposal.decision_rule is DecisionRule.CONSENT:
        passed = tally.no == 0 and tally.block == 0
    else:
        passed = tally.yes > tally.no
    state = ProposalState.PASSED if passed else ProposalState.REJECTED
    return state, (
        f"Proposal “{title}” {state.value}: {tally.yes} yes, {tally.no} no, {tally.block} block, "
        f"{tally.abstain} abstain."
    )


async def _outcome_post(instance: Instance, circle: Circle, proposal_post: Post, outcome: str) -> Post:
    """The circle itself (its Group actor) tells its members what was decided."""
    post_id = clock.new_id()
    link = f"[{proposal_post.title}]({proposal_post.uri})"
    body = f"{outcome}\n\nThe proposal: {link}"
    post = await Post.create(
        id=post_id, uri=instance.post_uri(post_id), circle=circle, author_id=circle.actor_id,
        kind=PostKind.DISCUSSION, title=f"Decision: {proposal_post.title}"[:TITLE_MAX], source=body,
        content=render_markdown(body), language=circle.language, local=True, published_at=clock.now(),
    )
    await Circle.filter(id=circle.id).update(post_count=F("post_count") + 1)
    await OutboxEvent.create(kind="post.created", subject_id=post.id)
    return post


# Applying what passed: each returns None, or why it could not be applied.


async def _apply(proposal: Proposal) -> str | None:
    circle = proposal.circle
    kind = proposal.kind
    if kind is ProposalKind.RULES:
        return await _apply_rules(circle, proposal.value_text)
    if kind is ProposalKind.PURPOSE:
        return await _apply_purpose(circle, proposal.value_text)
    if kind is ProposalKind.JOIN_MODE:
        return await _apply_join_mode(circle, JoinMode(proposal.value_text))
    if kind is ProposalKind.VISIBILITY:
        return await _apply_visibility(circle, Visibility(proposal.value_text))
    if kind in ACTOR_KINDS and proposal.value_actor is None:
        return "the member it named no longer exists."
    if kind is ProposalKind.ADD_FACILITATOR:
        return await _apply_add_facilitator(circle, proposal.value_actor)
    if kind is ProposalKind.REMOVE_FACILITATOR:
        return await _apply_remove_facilitator(circle, proposal.value_actor)
    if kind is ProposalKind.ROTATE_FACILITATION:
        return await _apply_rotate_facilitation(circle, proposal.value_actor)
    if kind is ProposalKind.ADD_MODERATOR:
        return await _apply_moderator(circle, proposal.value_actor, give=True)
    if kind is ProposalKind.REMOVE_MODERATOR:
        return await _apply_moderator(circle, proposal.value_actor, give=False)
    return None  # free text: nothing to change


async def _apply_rules(circle: Circle, text: str) -> str | None:
    await circle_service.set_rules_by_decision(circle, text)  # the rules become the adopted charter
    return None


async def _apply_purpose(circle: Circle, text: str) -> str | None:
    await Circle.filter(id=circle.id).update(purpose=text)
    await _group_changed(circle)
    return None


async def _apply_join_mode(circle: Circle, mode: JoinMode) -> str | None:
    await Circle.filter(id=circle.id).update(join_mode=mode)
    # Follow requests are held for approval unless the circle is open (as create_circle sets it).
    await Actor.filter(id=circle.actor_id).update(manually_approves_followers=mode is not JoinMode.OPEN)
    await _group_changed(circle)
    return None


async def _apply_visibility(circle: Circle, visibility: Visibility) -> str | None:
    # What was federated publicly before stays where it went; from now on the
    # circle's content is addressed and served as `visibility` says.
    await Circle.filter(id=circle.id).update(visibility=visibility)
    await _group_changed(circle)
    return None


async def _apply_add_facilitator(circle: Circle, actor: Actor) -> str | None:
    if not await _set_role(circle, actor, Role.FACILITATOR):
        return f"@{actor.username} is no longer an active member."
    return None


async def _apply_remove_facilitator(circle: Circle, actor: Actor) -> str | None:
    others = await Membership.filter(
        circle=circle, state=MembershipState.ACTIVE, role=Role.FACILITATOR
    ).exclude(actor=actor).count()
    if not others:
        return f"@{actor.username} is the only facilitator left; a circle keeps at least one."
    if not await _set_role(circle, actor, Role.MEMBER):
        return f"@{actor.username} is no longer an active member."
    return None


async def _apply_rotate_facilitation(circle: Circle, actor: Actor) -> str | None:
    if not await Membership.filter(circle=circle, actor=actor, state=MembershipState.ACTIVE).exists():
        return f"@{actor.username} is no longer an active member."
    await Membership.filter(circle=circle, role=Role.FACILITATOR).exclude(actor=actor).update(
        role=Role.MEMBER, updated_at=clock.now()
    )
    await _set_role(circle, actor, Role.FACILITATOR)
    return None


async def _apply_moderator(circle: Circle, actor: Actor, *, give: bool) -> str | None:
    # Only a plain member becomes a moderator, and only a moderator stops being one:
    # a facilitator named meanwhile keeps their role.
    was, now = (Role.MEMBER, Role.MODERATOR) if give else (Role.MODERATOR, Role.MEMBER)
    changed = await Membership.filter(circle=circle, actor=actor, state=MembershipState.ACTIVE, role=was).update(
        role=now, updated_at=clock.now()
    )
    if not changed:
        return f"@{actor.username} is no longer an active {was.value} of the circle."
    await _group_changed(circle)  # the Group's moderators collection changed
    return None


async def _set_role(circle: Circle, actor: Actor, role: Role) -> bool:
    return bool(
        await Membership.filter(circle=circle, actor=actor, state=MembershipState.ACTIVE).update(
            role=role, updated_at=clock.now()
        )
    )


async def _group_changed(circle: Circle) -> None:
    # The Group document shows purpose, rules and join mode: send its Update.
    await OutboxEvent.create(kind="actor.updated", subject_id=circle.actor_id)


# --- reading ---------------------------------------------------------------------------


async def tallies(proposal_ids: list[int]) -> dict[int, Tally]:
    """Vote counts per proposal, in one query."""
    if not proposal_ids:
        return {}
    rows = await (
        Vote.filter(proposal_id__in=proposal_ids)
        .annotate(n=Count("id"))
        .group_by("proposal_id", "choice")
        .values("proposal_id", "choice", "n")
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["proposal_id"], {})[VoteChoice(row["choice"]).value] = row["n"]
    return {pid: Tally(**by_choice) for pid, by_choice in counts.items()}


async def votes_of(voter: Actor, proposal_ids: list[int]) -> dict[int, Vote]:
    if not proposal_ids:
        return {}
    return {v.proposal_id: v for v in await Vote.filter(voter=voter, proposal_id__in=proposal_ids)}


async def open_proposals(circle: Circle) -> list[Proposal]:
    """Every open proposal of a circle, closing soonest first (few at a time by nature)."""
    return await (
        Proposal.filter(circle=circle, state=ProposalState.OPEN)
        .select_related("post", "proposer", "value_actor")
        .order_by("closes_at", "id")
        .limit(100)
    )


async def decision_log(circle: Circle, *, offset: int = 0, limit: int = LOG_PAGE) -> list[Proposal]:
    """Decided (and withdrawn) proposals, newest decision first."""
    return await (
        Proposal.filter(circle=circle, state__in=[s for s in ProposalState if s is not ProposalState.OPEN])
        .select_related("post", "proposer", "value_actor")
        .order_by("-decided_at", "-id")
        .offset(offset)
        .limit(limit)
    )


async def get_proposal(post_id: int) -> Proposal:
    """A proposal by its post's id (the id in its URLs)."""
    proposal = None
    if validation.is_row_id(post_id):
        proposal = await Proposal.filter(post_id=post_id, post__deleted_at=None).select_related(
            "post__author", "circle__actor", "proposer", "value_actor"
        ).first()
    if proposal is None:
        raise NotFound("That proposal does not exist or was deleted.")
    return proposal


async def proposal_for_post(post: Post) -> Proposal | None:
    return await Proposal.get_or_none(post_id=post.id)


async def proposals_for_posts(posts: list[Post]) -> dict[int, Proposal]:
    """proposal_for_post for a page of posts, by post id, in one query."""
    ids = [p.id for p in posts if p.kind is PostKind.PROPOSAL]
    return {p.post_id: p for p in await Proposal.filter(post_id__in=ids)} if ids else {}
