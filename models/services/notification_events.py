"""What each event tells whom: replies, mentions, answers, likes, feedback,
proposals, tutoring, reports, revealed askers and new followers. The services
of those events call these in their own transaction, for what happens here
and for what arrives from other servers alike (models/services/remote.py,
tutoring.py, follows.py), so each event is told once, whichever way it came.

Each notification keeps its English text (for emails and old rows) and the
`params` that the web layer fills into the same message in the reader's
language (web/html/notifications.py): MESSAGES is that one source of English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from models.accounts import Account
from models.actors import Actor, ActorKind
from models.circles import Circle, Membership, MembershipState, Role
from models.governance import Proposal, ProposalState
from models.moderation import Report
from models.posts import Post, PostKind
from models.services.notifications import notify
from models.text import plain_excerpt
from models.translation import N_
from models.tutoring import Pairing

TITLE_EXCERPT = 80  # a post without a title is named by its first words
MENTIONS_MAX = 20  # people told of one post's mentions, at most

# Keyed by kind, or by "kind/variant" when `params["variant"]` picks one.
MESSAGES: dict[str, str] = {
    "post.reply": N_("%(name)s replied to “%(title)s”."),
    "post.mention": N_("%(name)s mentioned you in “%(title)s”."),
    "question.answer": N_("%(name)s answered your question “%(title)s”."),
    "answer.accepted": N_("Your answer to “%(title)s” was accepted."),
    "review.received": N_("%(name)s gave feedback on “%(title)s”."),
    "post.liked": N_("%(name)s found “%(title)s” helpful."),
    "person.followed": N_("%(name)s follows you now."),
    "question.revealed": N_("A steward of %(circle)s looked up who asked “%(title)s”: they know it was you."),
    "tutoring.paired/asks": N_("%(name)s asks for your help with “%(skill)s” in %(circle)s."),
    "tutoring.paired/offers": N_("%(name)s offers to help you with “%(skill)s” in %(circle)s."),
    "tutoring.message": N_("%(name)s sent you a message about “%(skill)s”."),
    "proposal.new": N_("%(name)s proposes “%(title)s” in %(circle)s."),
    "proposal.decided/passed": N_("The proposal “%(title)s” in %(circle)s passed."),
    "proposal.decided/rejected": N_("The proposal “%(title)s” in %(circle)s was rejected."),
    "report.new/circle": N_("A new report in %(circle)s waits for a steward."),
    "report.new/instance": N_("A new report waits for an admin."),
    "circle.join_request": N_("@%(handle)s asks to join %(circle)s."),
    "circle.request_approved": N_("Welcome: your request to join %(circle)s was approved."),
    "circle.request_declined": N_("Your request to join %(circle)s was declined."),
    "circle.invited": N_("%(name)s invites you to join %(circle)s."),
    "circle.needs_facilitator/member": N_(
        "%(circle)s has no facilitator any more. As its longest-standing member, would you take it on?"
    ),
    "circle.needs_facilitator/asked": N_(
        "%(circle)s has no facilitator any more; its longest-standing member was asked to take it on."
    ),
    "circle.needs_facilitator/nobody": N_("%(circle)s has no facilitator any more; no member here can take it on."),
}


def message_key(kind: str, params: dict) -> str:
    variant = params.get("variant")
    return f"{kind}/{variant}" if isinstance(variant, str) and variant else kind


def english(kind: str, params: dict) -> str:
    """The stored English text of a notification."""
    return MESSAGES[message_key(kind, params)] % params


async def tell(actor_ids: Iterable[int], kind: str, url: str, *, params: dict, **details) -> int:
    """`notify` with the English text written from MESSAGES."""
    return await notify([i for i in actor_ids if i is not None], kind, english(kind, params), url, params=params, **details)


def title_of(post: Post) -> str:
    return post.title or plain_excerpt(post.content, TITLE_EXCERPT)


def profile_url(person: Actor) -> str:
    return f"/people/{person.handle}"


def _link(post: Post, author: Actor, circle: Circle | None) -> str:
    """A post outside any circle (someone followed from here) has no page of its own: it shows on its author's."""
    return post_url(post) if circle is not None else profile_url(author)


def post_url(post: Post) -> str:
    """A post's address: a reply's opens its thread on the page it is on."""
    return f"/posts/{post.id}" + (f"#post-{post.id}" if post.root_id else "")


async def _readers(circle: Circle | None, actor_ids: Iterable[int]) -> list[int]:
    """Those of `actor_ids` who may read the circle's content: everyone for a
    public circle, its active members for a members-only one (no notification
    names what someone may not see)."""
    ids = set(actor_ids)
    if not ids or circle is None or not circle.members_only:
        return list(ids)
    return list(await Membership.filter(circle_id=circle.id, actor_id__in=ids, state=MembershipState.ACTIVE)
                .values_list("actor_id", flat=True))


# --- posts: replies, answers, feedback, mentions, likes ------------------------------------


async def post_written(post: Post, author: Actor, circle: Circle | None, parent: Post | None, *,
                       mentioned: Iterable[int] = ()) -> None:
    """A new post or reply, written here or arriving: the author of what it
    answers hears of it (a reply, an answer to their question, feedback on
    their work), and so do the local people it mentions (`mentioned`, actor
    ids), once each. The circle's own notes tell nobody."""
    if circle is not None and author.id == circle.actor_id:
        return
    told: set[int] = set()
    if parent is not None:
        told = await _reply(post, author, circle, parent)
    others = [i for i in dict.fromkeys(mentioned) if i not in told and i != author.id][:MENTIONS_MAX]
    if others:
        await tell(await _readers(circle, others), "post.mention", _link(post, author, circle), subject_id=post.id,
                   actor_id=author.id, circle_id=circle.id if circle else None,
                   params={"name": author.name, "title": title_of(post)})


async def _reply(post: Post, author: Actor, circle: Circle | None, parent: Post) -> set[int]:
    answered = parent.asked_by_id or parent.author_id  # a safe question's asker, not the circle
    if parent.root_id is None and parent.kind is PostKind.QUESTION:
        kind = "question.answer"
    elif parent.root_id is None and parent.kind is PostKind.REVIEW:
        kind = "review.received"
    else:
        kind = "post.reply"
    recipients = await _readers(circle, [answered])
    await tell(recipients, kind, _link(post, author, circle), subject_id=post.id, actor_id=author.id,
               circle_id=circle.id if circle else None, group_key=f"{kind}:{parent.id}",
               params={"name": author.name, "title": title_of(parent)})
    return set(recipients)


MENTION_RE = re.compile(r"(?<![\w@/])@([a-z0-9_]+)(?:@([a-z0-9][a-z0-9.:-]*[a-z0-9]))?", re.IGNORECASE)


async def mentioned_here(source: str, domain: str) -> list[int]:
    """The local people a post written here names as @name or @name@domain
    (their actor ids); names of people elsewhere are for their servers."""
    names = []
    for match in MENTION_RE.finditer(source):
        if match.group(2) is None or match.group(2).lower() == domain.lower():
            names.append(match.group(1).lower())
    names = list(dict.fromkeys(names))[:MENTIONS_MAX]
    if not names:
        return []
    return list(await Actor.filter(username__in=names, local=True, kind=ActorKind.PERSON, deleted_at=None)
                .values_list("id", flat=True))


async def mentioned_by_uri(uris: Iterable[str]) -> list[int]:
    """The local people a remote post's Mention tags name."""
    uris = list(dict.fromkeys(uris))[:MENTIONS_MAX]
    if not uris:
        return []
    return list(await Actor.filter(uri__in=uris, local=True, kind=ActorKind.PERSON)
                .values_list("id", flat=True))


async def liked(post: Post, liker: Actor) -> int:
    """A new like ("this helped me") of a post: its author hears, one line per post."""
    circle = await Circle.get_or_none(id=post.circle_id) if post.circle_id else None
    author = post.asked_by_id or post.author_id
    return await tell(await _readers(circle, [author]), "post.liked", post_url(post), subject_id=post.id,
                      actor_id=liker.id, circle_id=post.circle_id, group_key=f"post.liked:{post.id}",
                      params={"name": liker.name, "title": title_of(post)})


async def answer_accepted(question: Post, answer: Post, by: Actor) -> int:
    """The answer's author hears it was accepted, never by whom: the asker of
    a safe question must stay unknown."""
    if answer.author_id == by.id:
        return 0
    circle = await Circle.get_or_none(id=question.circle_id) if question.circle_id else None
    return await tell(await _readers(circle, [answer.author_id]), "answer.accepted", post_url(answer),
                      subject_id=answer.id, actor_id=None if question.asked_by_id else by.id,
                      circle_id=question.circle_id, params={"title": title_of(question)})


async def asker_revealed(question: Post, circle: Circle, viewer: Actor) -> int:
    """A steward looked up who asked a safe question: the asker hears that
    someone did, never who (no causer: not even muting them hides it)."""
    if viewer.id == question.asked_by_id:
        return 0
    return await tell([question.asked_by_id], "question.revealed", post_url(question), subject_id=question.id,
                      circle_id=circle.id, params={"circle": circle.name, "title": title_of(question)})


# --- people, circles, governance ----------------------------------------------------------


async def followed(follower: Actor, person: Actor) -> int:
    return await tell([person.id], "person.followed", profile_url(follower),
                      actor_id=follower.id, group_key="person.followed", params={"name": follower.name})


async def _active_members(circle: Circle) -> list[int]:
    return list(await Membership.filter(circle_id=circle.id, state=MembershipState.ACTIVE, actor__local=True)
                .values_list("actor_id", flat=True))


async def proposal_made(proposal: Proposal, post: Post, proposer: Actor, circle: Circle) -> int:
    """Every member hears of a new proposal (its proposer excepted)."""
    return await tell(await _active_members(circle), "proposal.new", f"/proposals/{post.id}", subject_id=post.id,
                      actor_id=proposer.id, circle_id=circle.id, group_key=f"proposal.new:{circle.id}",
                      params={"name": proposer.name, "title": post.title, "circle": circle.name})


async def proposal_decided(proposal: Proposal, post: Post, circle: Circle) -> int:
    """Every member hears what was decided (passed or rejected)."""
    variant = "passed" if proposal.state is ProposalState.PASSED else "rejected"
    return await tell(await _active_members(circle), "proposal.decided", f"/proposals/{post.id}",
                      subject_id=post.id, circle_id=circle.id,
                      params={"variant": variant, "title": post.title, "circle": circle.name})


async def join_requested(circle: Circle, requester: Actor) -> int:
    """Someone asks to join: each facilitator hears it, with a link to the requests."""
    facilitators = await Membership.filter(
        circle_id=circle.id, role=Role.FACILITATOR, state=MembershipState.ACTIVE
    ).values_list("actor_id", flat=True)
    username = await Actor.filter(id=circle.actor_id).first().values_list("username", flat=True)
    return await tell(facilitators, "circle.join_request", f"/c/{username}#requests", actor_id=requester.id,
                      circle_id=circle.id,
                      group_key=f"circle.join_request:{circle.id}",
                      params={"handle": requester.handle, "circle": circle.name})


async def request_answered(circle: Circle, person: Actor, *, approved: bool) -> int:
    """The person hears the circle's answer. No causer is named: a decision of
    the circle reaches them even if they muted the steward who took it."""
    if approved:
        return await tell([person.id], "circle.request_approved", f"/c/{circle.handle}", circle_id=circle.id,
                          params={"circle": circle.name})
    return await tell([person.id], "circle.request_declined", f"/c/{circle.handle}/about", circle_id=circle.id,
                      params={"circle": circle.name})


async def invited(person: Actor, by: Actor, circle_name: str, url: str, *, circle_id: int | None = None) -> int:
    """A personal invitation, from a circle here or elsewhere (then its name carries its handle)."""
    return await tell([person.id], "circle.invited", url, actor_id=by.id, circle_id=circle_id,
                      params={"name": by.name, "circle": circle_name})


async def needs_facilitator(circle: Circle, member_id: int | None) -> int:
    """A circle lost its last facilitator: its longest-standing member here
    (`member_id`, if any) is asked to take it on; the admins are told."""
    made = 0
    if member_id is not None:
        made += await tell([member_id], "circle.needs_facilitator", f"/c/{circle.handle}/facilitate",
                           circle_id=circle.id, params={"variant": "member", "circle": circle.name})
    admins = await Account.filter(is_admin=True).values_list("actor_id", flat=True)
    made += await tell(admins, "circle.needs_facilitator", f"/c/{circle.handle}/members", circle_id=circle.id,
                       params={"variant": "asked" if member_id is not None else "nobody", "circle": circle.name})
    return made


# --- tutoring ---------------------------------------------------------------------------------


async def pairing_opened(pairing: Pairing, by: Actor, other: Actor, circle: Circle) -> int:
    variant = "offers" if pairing.helper_id == by.id else "asks"
    return await tell([other.id], "tutoring.paired", f"/tutoring/{pairing.id}", actor_id=by.id,
                      circle_id=circle.id,
                      params={"variant": variant, "name": by.name, "skill": pairing.skill, "circle": circle.name})


async def tutoring_message(pairing: Pairing, author: Actor, to: Actor) -> int:
    return await tell([to.id], "tutoring.message", f"/tutoring/{pairing.id}", actor_id=author.id,
                      circle_id=pairing.circle_id, group_key=f"tutoring.message:{pairing.id}",
                      params={"name": author.name, "skill": pairing.skill})


# --- reports -----------------------------------------------------------------------------------


async def report_made(report: Report, circle: Circle | None) -> int:
    """A circle's stewards hear of a report about it (on its moderation page),
    and the admins who are not among them (on the admin's). Neither the
    reporter nor the reported person is told, and no name is given: a
    report reaches stewards even from someone they muted."""
    spared = {report.reporter_id, report.target_actor_id}
    stewards: list[int] = []
    made = 0
    if circle is not None and circle.actor.local:
        stewards = list(await Membership.filter(
            circle_id=circle.id, state=MembershipState.ACTIVE, role__in=[Role.FACILITATOR, Role.MODERATOR]
        ).values_list("actor_id", flat=True))
        made += await tell([i for i in stewards if i not in spared], "report.new", f"/c/{circle.handle}/moderation",
                           circle_id=circle.id, group_key=f"report.new:{circle.id}",
                           params={"variant": "circle", "circle": circle.name})
    admins = await Account.filter(is_admin=True).values_list("actor_id", flat=True)
    made += await tell([i for i in admins if i not in spared and i not in stewards], "report.new", "/admin/reports",
                       circle_id=circle.id if circle else None, group_key="report.new:instance",
                       params={"variant": "instance"})
    return made
