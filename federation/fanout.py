"""Turning local events (OutboxEvent rows) into activities and one Delivery
row per recipient inbox, shared inboxes deduplicated."""

from __future__ import annotations

import html
import logging

from tortoise.transactions import in_transaction

from federation import convert, nodeinfo, parse, post_fanout, vocab
from federation.post_fanout import Addressee, Plan
from federation.runtime import Federation
from models import clock, tracing
from models.actors import Actor
from models.circle_invites import CircleInvite
from models.circles import Circle
from models.federation import Delivery, DeliveryState, OutboxEvent
from models.meetings import Meeting, Rsvp, RsvpAnswer
from models.moderation import ModerationAction, Report
from models.polls import PollAnswer
from models.posts import Like, Post
from models.services import actors as actor_service
from models.services import circle_invites, follows, moderation, tutoring
from models.tutoring import TutoringMessage

log = logging.getLogger(__name__)


async def _follow_answer(fed: Federation, event: OutboxEvent, answer: str) -> list[Plan]:
    follow = await follows.find_follow(event.subject_id)
    if follow is None:
        return []  # undone (or blocked) before we answered: nothing to say
    activity = {
        # The event in the id: a repeated Follow gets an answer of its own.
        "id": f"{follow.target.uri}#{answer.lower()}s/{follow.id}-{event.id}",
        "type": answer,
        "actor": follow.target.uri,
        "object": {
            "id": follow.uri, "type": "Follow", "actor": follow.follower.uri, "object": follow.target.uri,
        },
    }
    return [(follow.target, activity, [follow.follower])]


async def _follow_request(fed: Federation, event: OutboxEvent) -> list[Plan]:
    follow = await follows.find_follow(event.subject_id)
    if follow is None:
        return []  # withdrawn before it was sent
    activity = {"id": follow.uri, "type": "Follow", "actor": follow.follower.uri, "object": follow.target.uri}
    return [(follow.follower, activity, [follow.target])]


async def _follow_undone(fed: Federation, event: OutboxEvent) -> list[Plan]:
    follower = await Actor.get_or_none(uri=event.data.get("follower", ""), local=True)
    target = await Actor.get_or_none(uri=event.data.get("target", ""), local=False)
    if follower is None or target is None:
        return []
    follow = {"id": event.data.get("follow_uri"), "type": "Follow", "actor": follower.uri, "object": target.uri}
    activity = {"id": f"{follower.uri}#undo-follow-{event.id}", "type": "Undo", "actor": follower.uri, "object": follow}
    return [(follower, activity, [target])]


async def _person_block(fed: Federation, event: OutboxEvent, *, undo: bool) -> list[Plan]:
    """A local person blocks (or stops blocking) someone elsewhere: a `Block`
    to that person's own inbox, as Mastodon's BlockService sends it. Mastodon
    takes an Undo only with the Block embedded, type and all
    (app/lib/activitypub/activity/undo.rb, `undo_block`), and then unblocks."""
    owner = await Actor.get_or_none(uri=event.data.get("owner", ""), local=True)
    target = await Actor.get_or_none(uri=event.data.get("target", ""), local=False)
    if owner is None or target is None or not event.data.get("block_uri"):
        return []
    block = {"id": event.data["block_uri"], "type": "Block", "actor": owner.uri, "object": target.uri}
    if not undo:
        return [(owner, block, [target])]
    activity = {"id": f"{owner.uri}#blocks/undo-{event.id}", "type": "Undo", "actor": owner.uri, "object": block}
    return [(owner, activity, [target])]


async def _circle_invited(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """A facilitator invites someone elsewhere into the circle: an `Invite`
    shaped as Mobilizon sends one (lib/federation/activity_pub/actions/invite.ex:
    actor the inviter, object the group, target the invitee), which a Circles
    server shows its person as a notification. Mastodon and its kin have no
    use for an Invite, so their people also get a direct message saying how
    to join: following the circle, which the circle then accepts."""
    invite = await CircleInvite.get_or_none(id=event.subject_id).select_related(
        "circle__actor", "created_by", "invitee"
    )
    if invite is None or invite.invitee is None or invite.created_by is None or invite.revoked_at is not None:
        return []
    by, person, group = invite.created_by, invite.invitee, invite.circle.actor
    activity = {
        "id": f"{group.uri}#invites/{invite.id}", "type": "Invite", "actor": by.uri, "attributedTo": group.uri,
        "object": group.uri, "target": person.uri, "to": [person.uri], "cc": [group.uri],
    }
    plans = [(by, activity, [person])]
    if await nodeinfo.is_microblogging(fed, person.inbox_url or ""):
        handle = f"@{group.username}@{group.domain}"
        text = (f"{by.name} invites you to join {invite.circle.name}, a learning circle on {group.domain}. "
                f"To join, follow {handle} within {circle_invites.PERSONAL_DAYS} days.")
        plans.append((by, convert.direct_note(
            f"{group.uri}/invites/{invite.id}/note", author=by, to=person,
            content_html=f'<p>{html.escape(text)} <a href="{html.escape(group.uri)}">{html.escape(group.uri)}</a></p>',
            published=event.created_at,
        ), [person]))
    return plans


async def _actor_update(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """A local actor changed (new keys, new profile): tell its followers' servers."""
    from federation.routes import local_actor_document  # routes imports Quart; keep it out of import time

    actor = await Actor.get_or_none(id=event.subject_id, local=True)
    if actor is None:
        return []
    document = await local_actor_document(actor)
    activity = {"id": f"{actor.uri}#updates/{event.id}", "type": "Update", "actor": actor.uri,
                "to": [vocab.PUBLIC], "object": document}
    return [(actor, activity, await follows.remote_followers(actor))]


async def _actor_deleted(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """A local person's account was deleted: one Delete of the actor to every
    server we know (as Mastodon does: app/services/delete_account_service.rb,
    delete_actor!, to all known inboxes), since
    their posts reached circles' followers, not only their own. Mastodon
    removes all of an actor's statuses on it (app/lib/activitypub/activity/
    delete.rb, delete_person); Lemmy removes their content only when
    `removeData` is true (crates/apub/src/protocol/activities/deletion/delete_user.rs)."""
    actor = await Actor.get_or_none(id=event.subject_id, local=True, deleted_at__not_isnull=True)
    if actor is None:
        return []
    activity = {"id": f"{actor.uri}#delete", "type": "Delete", "actor": actor.uri, "object": actor.uri,
                "to": [vocab.PUBLIC], "removeData": True}
    known = await Actor.filter(local=False, inbox_url__not_isnull=True).only("id", "inbox_url", "shared_inbox_url")
    return [(actor, activity, known)]


async def _like_recipients(post: Post) -> list[Actor]:
    """Who keeps count of a post's likes elsewhere: its circle's Group when
    the circle lives elsewhere, and its author when they do."""
    recipients = []
    if post.circle is not None and not post.circle.actor.local:
        recipients.append(post.circle.actor)
    if not post.author.local:
        recipients.append(post.author)
    return recipients


def _like_activity(like_uri: str, actor: Actor, post: Post) -> dict:
    body = {"id": like_uri, "type": "Like", "actor": actor.uri, "object": post.uri}
    if post.circle is not None:
        body["audience"] = post.circle.actor.uri
    return body


async def _like_created(fed: Federation, event: OutboxEvent) -> list[Plan]:
    like = await Like.get_or_none(id=event.subject_id).select_related("actor", "post__author", "post__circle__actor")
    if like is None or not like.actor.local:
        return []  # taken back before it went out
    recipients = await _like_recipients(like.post)
    return [(like.actor, _like_activity(like.uri, like.actor, like.post), recipients)] if recipients else []


async def _like_undone(fed: Federation, event: OutboxEvent) -> list[Plan]:
    post = await Post.get_or_none(id=event.subject_id).select_related("author", "circle__actor")
    actor = await Actor.get_or_none(uri=event.data.get("actor", ""), local=True)
    if post is None or actor is None or not event.data.get("like_uri"):
        return []
    recipients = await _like_recipients(post)
    activity = {
        "id": f"{actor.uri}#likes/undo-{event.id}", "type": "Undo", "actor": actor.uri,
        "object": _like_activity(event.data["like_uri"], actor, post),
    }
    return [(actor, activity, recipients)] if recipients else []


async def _rsvp_of(event: OutboxEvent) -> Rsvp | None:
    return await Rsvp.get_or_none(id=event.subject_id).select_related(
        "actor", "meeting__post__author", "meeting__circle__actor"
    )


async def _join_accepted(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """The circle accepts a remote member's Join of one of its meetings.
    Mobilizon finds the participation by the Join's id; for a `joinMode:
    free` event it counts its member as a participant at once, so this
    Accept confirms rather than decides."""
    rsvp = await _rsvp_of(event)
    if rsvp is None or rsvp.answer is not RsvpAnswer.GOING:
        return []  # changed their mind before we answered
    group, post = rsvp.meeting.circle.actor, rsvp.meeting.post
    activity = {
        "id": f"{group.uri}#accepts/join-{rsvp.id}-{event.id}", "type": "Accept", "actor": group.uri,
        "to": [rsvp.actor.uri], "audience": group.uri,
        "object": {"id": event.data.get("join"), "type": "Join", "actor": rsvp.actor.uri, "object": post.uri},
    }
    return [(group, activity, [rsvp.actor])]


async def _join_rejected(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """The circle refuses a Join the rules did not allow (full, cancelled, over)."""
    meeting = await Meeting.get_or_none(id=event.subject_id).select_related("post", "circle__actor")
    person = await Actor.get_or_none(uri=event.data.get("actor", ""), local=False)
    if meeting is None or person is None:
        return []
    group = meeting.circle.actor
    activity = {
        "id": f"{group.uri}#rejects/join-{meeting.id}-{event.id}", "type": "Reject", "actor": group.uri,
        "to": [person.uri], "audience": group.uri,
        "object": {"id": event.data.get("join"), "type": "Join", "actor": person.uri, "object": meeting.post.uri},
    }
    return [(group, activity, [person])]


async def _meeting_answered(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """Our member answers a meeting held elsewhere: Join (going) or Leave, to
    the meeting's circle and organiser, as Mobilizon participants do."""
    rsvp = await _rsvp_of(event)
    if rsvp is None or not rsvp.actor.local:
        return []
    going = event.data.get("answer") == RsvpAnswer.GOING.value
    post, group = rsvp.meeting.post, rsvp.meeting.circle.actor
    activity = {
        "id": f"{rsvp.actor.uri}#{'joins' if going else 'leaves'}/{rsvp.id}-{event.id}",
        "type": "Join" if going else "Leave", "actor": rsvp.actor.uri, "object": post.uri,
        "to": [group.uri, post.author.uri], "audience": group.uri,
    }
    return [(rsvp.actor, activity, [group, post.author])]


async def _poll_answered(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """Our member answers a poll from elsewhere, as Mastodon votes: a Create
    of a Note named after the option, in reply to the Question, no content,
    addressed to the poll's author only."""
    answer = await PollAnswer.get_or_none(id=event.subject_id).select_related("actor", "poll__post__author")
    if answer is None or not answer.actor.local:
        return []
    voter, post = answer.actor, answer.poll.post
    note_id = f"{voter.uri}#votes/{answer.id}"
    note = {"id": note_id, "type": "Note", "name": answer.option, "attributedTo": voter.uri,
            "to": post.author.uri, "inReplyTo": post.uri}
    activity = {"id": f"{note_id}/activity", "type": "Create", "actor": voter.uri, "to": post.author.uri,
                "object": note}
    return [(voter, activity, [post.author])]


async def _tutoring_message(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """A tutoring message written here, to the pairing's person on another
    server: a direct Note to them alone, in reply to the thread's last Note."""
    message = await TutoringMessage.get_or_none(id=event.subject_id).select_related(
        "author", "pairing__circle__actor", "pairing__helper", "pairing__learner"
    )
    if message is None or not message.author.local or not message.uri:
        return []
    to = tutoring.partner_of(message.pairing, message.author)
    if to.local:
        return []
    activity = convert.tutoring_message_to_create(
        message, pairing=message.pairing, to=to, in_reply_to=event.data.get("in_reply_to"),
        closing=event.data.get("closed") is True,
    )
    return [(message.author, activity, [to])]


def _paragraph(text: str) -> str:
    return "<p>" + "<br>".join(html.escape(line) for line in text.splitlines()) + "</p>"


async def _tutoring_skills(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """Our member tells a circle elsewhere their skills, as a Mastodon user
    would: a direct message to its Group."""
    circle = await Circle.get_or_none(id=event.subject_id).select_related("actor")
    actor = await Actor.get_or_none(uri=event.data.get("actor", ""), local=True)
    if circle is None or actor is None or circle.actor.local:
        return []
    activity = convert.direct_note(
        f"{actor.uri}/tutoring/skills/{event.id}", author=actor, to=circle.actor,
        content_html=_paragraph(event.data.get("text", "")), published=event.created_at,
    )
    return [(actor, activity, [circle.actor])]


async def _circle_direct_answer(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """A circle here answers a remote person, to them alone (what it did with
    their skills message, or why it did not post their non-public message)."""
    circle = await Circle.get_or_none(id=event.subject_id).select_related("actor")
    person = await Actor.get_or_none(uri=event.data.get("to", ""), local=False)
    if circle is None or person is None or not circle.actor.local:
        return []
    activity = convert.direct_note(
        f"{circle.actor.uri}/answers/{event.id}", author=circle.actor, to=person,
        content_html=_paragraph(event.data.get("text", "")), in_reply_to=event.data.get("in_reply_to"),
        published=event.created_at,
    )
    return [(circle.actor, activity, [person])]


async def _report_forwarded(fed: Federation, event: OutboxEvent) -> list[Plan]:
    """A report sent on to the reported person's server, as Mastodon does: a
    Flag from the instance actor (never naming who reported), its objects
    the person and the posts, its content the comment."""
    report = await Report.get_or_none(id=event.subject_id).select_related("target_actor", "post")
    if report is None or report.target_actor is None or report.target_actor.local:
        return []
    instance_actor = await actor_service.ensure_instance_actor(fed.instance)
    objects = [report.target_actor.uri, *([report.post.uri] if report.post else [])]
    activity = {
        "id": f"{instance_actor.uri}#flags/{report.id}", "type": "Flag", "actor": instance_actor.uri,
        "object": objects, "content": report.comment,  # no `to`: addressed to nobody, as Mastodon's Flag
    }
    return [(instance_actor, activity, [report.target_actor])]


async def _ban_plan(fed: Federation, event: OutboxEvent, *, undo: bool) -> list[Plan]:
    """A circle bans (or unbans) someone, as Lemmy does: a Block with the
    circle as target, to the person's server and the circle's followers; an
    unban is its Undo. Lemmy takes it only from a person, the moderator
    (0.19.20 crates/apub/src/protocol/activities/block/block_user.rs:20-44,
    `actor: ObjectId<ApubPerson>`); Mastodon acts on a Block only as its
    sender's own, so the circle's Block makes a banned Mastodon user stop
    following it (Mastodon 4.6 app/lib/activitypub/activity/block.rb:4-22)."""
    action = await ModerationAction.get_or_none(id=event.subject_id).select_related(
        "circle__actor", "target_actor", "moderator"
    )
    if action is None or action.target_actor is None or not action.circle.actor.local:
        return []
    group, person = action.circle.actor, action.target_actor
    recipients = [*await follows.remote_followers(group), *([] if person.local else [person])]
    group_aware, on_microblogging = await post_fanout.by_software(fed, recipients)
    block_id = event.data.get("block") if undo else moderation.ban_block_id(action.circle, action)
    block_id = block_id or f"{group.uri}/moderation/{action.id}#block"
    plans = [
        (action.moderator, _ban_activity(action, action.moderator, block_id, undo=undo), group_aware),
        (group, _ban_activity(action, group, f"{block_id}#circle", undo=undo), on_microblogging),
    ]
    return [plan for plan in plans if plan[2]]


def _ban_activity(action: ModerationAction, actor: Actor, block_id: str, *, undo: bool) -> dict:
    group = action.circle.actor
    addressed = {"to": [vocab.PUBLIC], "cc": [group.uri], "audience": group.uri, "summary": action.reason}
    block = {"id": block_id, "type": "Block", "actor": actor.uri, "object": action.target_actor.uri,
             "target": group.uri, **addressed}
    if not undo:
        return block
    return {"id": f"{block_id}/undo-{action.id}", "type": "Undo", "actor": actor.uri, "object": block, **addressed}


# Direct messages go to the person's own inbox, not their server's shared one.
PERSONAL_INBOX = {"tutoring.message", "tutoring.skills", "circle.direct_answer", "person.blocked", "person.unblocked",
                  "circle.invited"}

PLANNERS = {
    "tutoring.message": _tutoring_message,
    "tutoring.skills": _tutoring_skills,
    "circle.direct_answer": _circle_direct_answer,
    "report.forwarded": _report_forwarded,
    "member.banned": lambda fed, e: _ban_plan(fed, e, undo=False),
    "member.unbanned": lambda fed, e: _ban_plan(fed, e, undo=True),
    "poll.answered": _poll_answered,
    "meeting.join_accepted": _join_accepted,
    "meeting.join_rejected": _join_rejected,
    "meeting.answered": _meeting_answered,
    "like.created": _like_created,
    "like.undone": _like_undone,
    "actor.updated": _actor_update,
    "actor.deleted": _actor_deleted,
    "circle.invited": _circle_invited,
    "person.blocked": lambda fed, e: _person_block(fed, e, undo=False),
    "person.unblocked": lambda fed, e: _person_block(fed, e, undo=True),
    "follow.requested": _follow_request,
    "follow.undone": _follow_undone,
    "follow.accepted": lambda fed, e: _follow_answer(fed, e, "Accept"),
    "follow.rejected": lambda fed, e: _follow_answer(fed, e, "Reject"),
    "post.created": post_fanout.post_event,
    "post.received": post_fanout.post_event,
    "post.updated": post_fanout.post_event,
    "post.deleted": post_fanout.post_event,
}


async def fan_out_pending(fed: Federation, *, limit: int = 50) -> int:
    """Turn unprocessed events into deliveries; returns how many events were handled."""
    events = await OutboxEvent.filter(processed_at=None).order_by("id").limit(limit)
    for event in events:
        with tracing.bound(event.request_id):  # its log lines carry the id of the request that caused it
            await _fan_out(fed, event)
    return len(events)


async def _fan_out(fed: Federation, event: OutboxEvent) -> None:
    planner = PLANNERS.get(event.kind)
    try:
        plans = await planner(fed, event) if planner else []
    except Exception:  # worker loop: one bad event must not hold up the queue behind it
        log.exception("cannot fan out event %s (%s); skipping it", event.id, event.kind)
        plans = []
    async with in_transaction():
        claimed = await OutboxEvent.filter(id=event.id, processed_at=None).update(processed_at=clock.now())
        if not claimed:  # another worker took it
            return
        for signer, activity, recipients in plans:
            await _queue(event, signer, activity, recipients, personal=event.kind in PERSONAL_INBOX)


async def _queue(event: OutboxEvent, signer: Actor, activity: dict, recipients: list[Addressee], *,
                 personal: bool = False) -> None:
    where = (lambda actor: actor.inbox_url) if personal else post_fanout.inbox_of
    inboxes = {inbox for inbox in map(where, recipients) if inbox}
    blocked = await moderation.blocked_among({parse.host_of(inbox) for inbox in inboxes})
    # An inbox that answered 410 Gone gets nothing more (federation/delivery.py).
    gone = set(await Delivery.filter(state=DeliveryState.GONE, inbox_url__in=inboxes).values_list("inbox_url", flat=True))
    inboxes = sorted(inbox for inbox in inboxes if parse.host_of(inbox) not in blocked and inbox not in gone)
    document = vocab.document(activity)
    now = clock.now()
    await Delivery.bulk_create(
        [
            Delivery(
                event=event, activity_id=activity["id"], signer=signer, inbox_url=inbox,
                host=parse.host_of(inbox), payload=document, next_attempt_at=now, request_id=event.request_id,
            )
            for inbox in inboxes
        ],
        ignore_conflicts=True,
    )
