"""What each incoming activity type does, through the same services the web
forms use. Every handler is idempotent: the same activity twice changes
nothing the second time. Returns True when the activity changed something here."""

from __future__ import annotations

import logging

from federation import keys, parse, polls
from federation.fetch import FetchError
from federation.runtime import Federation
from models.actors import Actor, ActorKind
from models.errors import Conflict, NotFound, PermissionDenied
from models.meetings import RsvpAnswer
from models.person_blocks import BlockKind
from models.services import actors as actor_service
from models.services import follows, person_blocks, remote
from models.services import meetings as meeting_service
from models.services import tutoring

log = logging.getLogger(__name__)
_unknown_types_logged: set[str] = set()


async def dispatch(fed: Federation, activity: dict) -> bool:
    handler = HANDLERS.get(activity.get("type"))
    if handler is None:
        kind = str(activity.get("type"))[:64]
        if kind not in _unknown_types_logged:
            _unknown_types_logged.add(kind)
            log.info("ignoring activities of type %s", kind)
        return False
    actor_uri = parse.id_of(activity["actor"])
    stored = await remote.remote_actor(actor_uri)
    if activity.get("type") == "Delete" and parse.id_of(activity.get("object")) == actor_uri and stored:
        actor = stored  # a deleted actor's document is gone: do not fetch it
    else:
        actor = await _sender(fed, actor_uri, stored)
    return await handler(fed, actor, activity)


async def _sender(fed: Federation, actor_uri: str, stored: Actor | None) -> Actor:
    """The activity's actor, refreshed when stale; the stored copy when the
    refresh fails (its server may be down: the signature already checked out)."""
    try:
        return await keys.resolve_actor(fed, actor_uri)
    except (FetchError, parse.InvalidDocument):
        if stored is None:
            raise
        return stored


async def _local_target(uri: str | None) -> Actor:
    actor = await actor_service.local_by_uri(uri) if uri else None
    if actor is None:
        raise NotFound("The activity's object is not an actor here.")
    return actor


async def on_follow(fed: Federation, actor: Actor, activity: dict) -> bool:
    target = await _local_target(parse.id_of(activity.get("object")))
    await follows.receive_follow(actor, target, activity["id"])
    return True


async def on_undo(fed: Federation, actor: Actor, activity: dict) -> bool:
    inner = activity.get("object")
    inner_type = parse.type_of(inner)
    if isinstance(inner, dict) and parse.id_of(inner.get("actor")) not in (None, actor.uri):
        raise PermissionDenied("Only an activity's own actor can undo it.")
    if inner_type == "Follow":
        target = await _local_target(parse.id_of(inner.get("object")))
        return await follows.undo_follow(actor, target, instance=fed.instance)
    if inner_type in ("Like", "EmojiReact"):
        return await remote.undo_like(actor, parse.id_of(inner), parse.id_of(inner.get("object")))
    if inner_type is None and isinstance(inner, str):
        return await remote.undo_like(actor, inner, None)  # some servers send only the id
    group = await _banning_circle(actor, inner) if inner_type == "Block" else None
    person = await actor_service.local_by_uri(parse.id_of(inner.get("object")) or "") if inner_type == "Block" else None
    if group is not None:
        return person is not None and await remote.unbanned_from_circle(group, person)
    if person is not None:  # a person elsewhere stops blocking one of ours
        return await person_blocks.remove(actor, person) is not None
    return False  # Undo of Announce: nothing here to undo


def _embedded_object(fed: Federation, actor: Actor, activity: dict) -> dict:
    """The activity's object, trusted only when it lives on the sender's host."""
    obj = activity.get("object")
    if not isinstance(obj, dict):
        raise parse.InvalidDocument("the object is not embedded")
    object_id = parse.id_of(obj)
    if not object_id or parse.host_of(object_id) != parse.host_of(actor.uri):
        raise parse.InvalidDocument("the embedded object is on another host than its sender")
    return obj


MAX_ADDRESSEES = 50  # a post addressed to more is not a circle conversation


async def _local_circle_uris(obj: dict) -> set[str]:
    return await actor_service.local_group_uris(sorted(parse.circle_candidates(obj))[:MAX_ADDRESSEES])


async def on_create(fed: Federation, actor: Actor, activity: dict) -> bool:
    if polls.votes_in(activity) is not None:  # a poll answer (Mastodon's shape), not a post
        return await polls.receive_vote(fed, actor, activity)
    obj = _embedded_object(fed, actor, activity)
    if parse.type_of(obj) == "Note":
        direct = await _tutoring_note(actor, obj)
        if direct is not None:
            return direct
    data = parse.as_to_post_input(obj, local_circle_uris=await _local_circle_uris(obj))
    if data.author_uri != actor.uri:
        raise PermissionDenied("The object's author is not the activity's actor.")
    post = await remote.store_post(data, actor, activity=activity)
    if post is None and data.public:  # followers-only posts are not kept: we do not show them only to followers
        post = await remote.store_followed_post(data, actor)
    return post is not None


async def _tutoring_note(actor: Actor, obj: dict) -> bool | None:
    """A Note that belongs to tutoring (a message in a pairing's thread, or a
    member's skills sent to a circle): handled there, never a post. None when
    it is neither."""
    note = parse.as_to_note_input(obj, sender=actor)
    if await tutoring.is_tutoring_note(note):
        return await tutoring.receive_message(actor, note) is not None
    if await tutoring.receive_skills(actor, note):
        return True
    return None


async def on_update(fed: Federation, actor: Actor, activity: dict) -> bool:
    obj = _embedded_object(fed, actor, activity)
    if parse.type_of(obj) in parse.ACTOR_TYPES:
        if parse.id_of(obj) != actor.uri:
            raise PermissionDenied("An actor can only update itself.")
        await keys.resolve_actor(fed, actor.uri, refresh=True)
        return True
    data = parse.as_to_post_input(obj, local_circle_uris=set())
    if data.author_uri != actor.uri:
        raise PermissionDenied("The object's author is not the activity's actor.")
    await remote.update_post(data, actor)
    return True


async def on_delete(fed: Federation, actor: Actor, activity: dict) -> bool:
    object_id = parse.id_of(activity.get("object"))
    if object_id is None:
        raise parse.InvalidDocument("Delete names no object")
    if object_id == actor.uri:
        return await remote.delete_actor(actor.uri, instance=fed.instance)
    if await tutoring.delete_remote_message(actor, object_id):
        return True
    await remote.delete_post(object_id, actor, activity=activity)
    return True


async def _answer(fed: Federation, actor: Actor, activity: dict, *, accepted: bool) -> bool:
    """A remote actor answers one of our Follows."""
    inner = activity.get("object")
    follower_uri = parse.id_of(inner.get("actor")) if isinstance(inner, dict) else None
    target_uri = parse.id_of(inner.get("object")) if isinstance(inner, dict) else None
    if target_uri not in (None, actor.uri):
        raise PermissionDenied("Only the followed actor can answer a follow.")
    follower = await actor_service.local_by_uri(follower_uri) if follower_uri else None
    if follower is None:
        # Mastodon may send only the Follow's id: find it among ours.
        follow = await follows.local_follow_by_uri(parse.id_of(inner) or "")
        if follow is None:
            return False
        follower = follow.follower
    return await follows.answer_from_remote(follower, actor, accepted=accepted)


async def on_accept(fed: Federation, actor: Actor, activity: dict) -> bool:
    inner_type = parse.type_of(activity.get("object"))
    if inner_type == "Join":
        return False  # a circle accepting our member's Join of a meeting: nothing to change here
    if inner_type in ("Member", "Invite"):
        return await _invitation_accepted(actor, parse.id_of(activity.get("object")) or "", activity["id"])
    return await _answer(fed, actor, activity, accepted=True)


async def _invitation_accepted(actor: Actor, invite_uri: str, accept_uri: str) -> bool:
    """Someone elsewhere accepts one of our circles' Invites. Mobilizon sends
    an Accept of the membership its Invite made, whose id is our Invite's
    (lib/federation/activity_pub/actions/accept.ex, `accept_invite`:
    `"object" => Convertible.model_to_as(member)`); only the invitee counts."""
    group_uri, marker, _number = invite_uri.partition("#invites/")
    group = await actor_service.local_by_uri(group_uri) if marker else None
    if group is None or group.kind is not ActorKind.GROUP:
        return False
    return await follows.take_up_invitation(actor, group, accept_uri)


async def on_reject(fed: Federation, actor: Actor, activity: dict) -> bool:
    if parse.type_of(activity.get("object")) == "Join":
        return False  # a circle refusing our member's Join of a meeting: nothing kept here
    return await _answer(fed, actor, activity, accepted=False)


async def _origin_object(fed: Federation, reference) -> dict:
    """An object by id, fetched from its own server (never trusted as embedded
    by someone else)."""
    object_id = parse.id_of(reference)
    if object_id is None:
        raise parse.InvalidDocument("the reference has no id")
    result = await keys.fetch_signed(fed, object_id)
    if parse.id_of(result.json) != object_id or parse.host_of(result.url_final) != parse.host_of(object_id):
        raise parse.InvalidDocument("the fetched object has another id than the one asked for")
    return result.json


async def on_announce(fed: Federation, actor: Actor, activity: dict) -> bool:
    """A remote circle re-shares a post (FEP-1b12: an Announce of the author's
    Create), or someone boosts one. Content from another host is fetched
    from its origin."""
    if actor.kind is not ActorKind.GROUP:
        return False  # boosts by people: not kept yet
    inner = activity.get("object")
    inner_type = parse.type_of(inner)
    if inner_type in ("Create", "Update") and isinstance(inner.get("object"), (dict, str)):
        obj = inner["object"]
    elif inner_type == "Delete":
        return await _announced_delete(fed, actor, inner)
    elif inner_type in parse.POST_TYPES or isinstance(inner, str):
        obj = inner
    else:
        return False
    if not isinstance(obj, dict) or parse.host_of(parse.id_of(obj) or "") != parse.host_of(actor.uri):
        obj = await _origin_object(fed, obj)
    # circle_uri is then set only when the post is addressed to this group.
    data = parse.as_to_post_input(obj, local_circle_uris={actor.uri})
    author = await keys.resolve_actor(fed, data.author_uri)
    if inner_type == "Update":
        await remote.update_post(data, author)
        return True
    await _fetch_missing_parents(fed, data, actor)
    return await remote.store_announced_post(data, author, actor) is not None


MAX_THREAD_DEPTH = 5  # parents fetched for one announced reply, at most


async def _fetch_missing_parents(fed: Federation, data, group: Actor) -> None:
    """Fetch, from their origins, the posts an announced reply answers that we
    do not have yet, up to MAX_THREAD_DEPTH, keeping only those that belong
    to the same circle (addressed to it), so the thread shows whole."""
    chain = []
    parent_uri = data.in_reply_to_uri
    while parent_uri and len(chain) < MAX_THREAD_DEPTH and await remote.post_by_uri(parent_uri) is None:
        obj = await _origin_object(fed, parent_uri)
        parent = parse.as_to_post_input(obj, local_circle_uris={group.uri})
        if parent.circle_uri != group.uri:
            break  # not part of this circle's conversation
        chain.append(parent)
        parent_uri = parent.in_reply_to_uri
    for parent in reversed(chain):  # oldest first, so each finds its own parent
        await remote.store_announced_post(parent, await keys.resolve_actor(fed, parent.author_uri), group)


async def _announced_delete(fed: Federation, group: Actor, inner: dict) -> bool:
    object_id = parse.id_of(inner.get("object"))
    post = await remote.post_by_uri(object_id) if object_id else None
    if post is None or post.local or post.circle is None or post.circle.actor_id != group.id:
        return False
    await remote.delete_post(object_id, post.author if parse.id_of(inner.get("actor")) == post.author.uri else group)
    return True


async def on_like(fed: Federation, actor: Actor, activity: dict) -> bool:
    post_uri = parse.id_of(activity.get("object"))
    return bool(post_uri) and await remote.like(actor, post_uri, activity["id"])


async def on_dislike(fed: Federation, actor: Actor, activity: dict) -> bool:
    """A Lemmy downvote: not kept (Circles has only "this helped me"), but it
    replaces the person's upvote there, so their like here goes. Lemmy stores
    a vote by removing the person's earlier one first, and undoes a downvote
    with an Undo of a Like, which on_undo matches by the post (LemmyNet/lemmy
    c537cf29 crates/apub/src/activities/voting/mod.rs:48-49 and 92-93)."""
    post_uri = parse.id_of(activity.get("object"))
    return bool(post_uri) and await remote.undo_like(actor, None, post_uri)


async def _banning_circle(actor: Actor, block: dict) -> Actor | None:
    """The circle a Block bans someone from, or None for a personal block
    (which has no target). Lemmy's ban names the community as its target and
    comes from a moderator, or from the community itself; as Lemmy, we take
    it from a person on the community's own server (0.19.20
    crates/apub/src/activities/mod.rs:104-125, `verify_mod_action`)."""
    target = parse.id_of(block.get("target"))
    if not target:
        return None
    if actor.kind is ActorKind.GROUP:
        return actor if target == actor.uri else None
    if parse.host_of(target) != parse.host_of(actor.uri):
        return None
    group = await remote.remote_actor(target)
    return group if group is not None and group.kind is ActorKind.GROUP else None


async def on_block(fed: Federation, actor: Actor, activity: dict) -> bool:
    blocked = await _local_target(parse.id_of(activity.get("object")))
    group = await _banning_circle(actor, activity)
    if group is not None:
        return await remote.banned_from_circle(group, blocked)
    if actor.kind is ActorKind.PERSON and blocked.kind is ActorKind.PERSON:
        # As Mastodon records it (app/lib/activitypub/activity/block.rb): the
        # follows both ways end, and our person's likes, replies and follows
        # to them are refused from now on.
        await person_blocks.set_block(actor, blocked, BlockKind.BLOCK, uri=activity["id"])
    else:
        await remote.block(actor, blocked)
    return True


async def on_invite(fed: Federation, actor: Actor, activity: dict) -> bool:
    """An invitation of one of our people into a circle elsewhere. Shaped as
    Mobilizon's (lib/federation/activity_pub/actions/invite.ex: actor the
    inviter, object the group, target the invitee); trusted, as Mobilizon
    trusts it (`is_able_to_invite?`), only from the circle's own server."""
    person = await _local_target(parse.id_of(activity.get("target")))
    group_uri = parse.id_of(activity.get("object"))
    if not group_uri or parse.host_of(group_uri) != parse.host_of(actor.uri):
        raise PermissionDenied("An invitation must come from the circle's own server.")
    group = await keys.resolve_actor(fed, group_uri)
    if group.kind is not ActorKind.GROUP:
        return False
    return await remote.invited_elsewhere(actor, group, person)


async def on_flag(fed: Federation, actor: Actor, activity: dict) -> bool:
    """A report (Mastodon, Lemmy): objects may be actors and posts, ours or not."""
    objects = [parse.id_of(o) for o in parse.as_list(activity.get("object"))[:MAX_ADDRESSEES]]
    objects = [o for o in objects if o]
    target = await actor_service.first_local_actor(objects)
    content = activity.get("content") or activity.get("summary") or ""
    await remote.report(actor, target=target, object_uris=objects, comment=str(content), uri=activity["id"])
    return True


async def _collection_change(fed: Federation, actor: Actor, activity: dict, *, add: bool) -> bool:
    """Add/Remove by a circle (Lemmy, FEP-1b12): pinning posts in its
    `featured` collection, or changing its moderators."""
    if actor.kind is not ActorKind.GROUP:
        return False
    target = parse.id_of(activity.get("target"))
    object_id = parse.id_of(activity.get("object"))
    if not target or not object_id:
        raise parse.InvalidDocument("Add/Remove needs an object and a target")
    if not target.startswith(actor.uri):
        raise PermissionDenied("A circle can only change its own collections.")
    if target.endswith("/featured"):  # Lemmy writes …/c/name//featured
        return await remote.set_featured(actor, object_id, featured=add)
    if target.endswith("/moderators"):
        member = await actor_service.local_by_uri(object_id) or await remote.remote_actor(object_id)
        return member is not None and await remote.set_remote_moderator(actor, member, moderator=add)
    return False


async def on_add(fed: Federation, actor: Actor, activity: dict) -> bool:
    return await _collection_change(fed, actor, activity, add=True)


async def on_remove(fed: Federation, actor: Actor, activity: dict) -> bool:
    return await _collection_change(fed, actor, activity, add=False)


async def _meeting_answer(actor: Actor, activity: dict, answer: RsvpAnswer) -> bool:
    """Mobilizon-style participation: Join (going) or Leave (not going) of a
    meeting held here, by a member of its circle, through the same service."""
    meeting = await meeting_service.meeting_by_uri(parse.id_of(activity.get("object")) or "")
    if meeting is None or not meeting.post.local:
        return False
    try:
        await meeting_service.rsvp(actor, meeting, answer, uri=activity["id"])
    except Conflict:
        if answer is not RsvpAnswer.GOING:
            raise
        await meeting_service.refuse_join(meeting, actor, activity["id"])
    return True


async def on_join(fed: Federation, actor: Actor, activity: dict) -> bool:
    return await _meeting_answer(actor, activity, RsvpAnswer.GOING)


async def on_leave(fed: Federation, actor: Actor, activity: dict) -> bool:
    return await _meeting_answer(actor, activity, RsvpAnswer.NOT_GOING)


HANDLERS = {
    "Join": on_join,
    "Leave": on_leave,
    "Add": on_add,
    "Remove": on_remove,
    "Like": on_like,
    "Dislike": on_dislike,
    "EmojiReact": on_like,
    "Block": on_block,
    "Flag": on_flag,
    "Invite": on_invite,
    "Accept": on_accept,
    "Reject": on_reject,
    "Announce": on_announce,
    "Follow": on_follow,
    "Undo": on_undo,
    "Create": on_create,
    "Update": on_update,
    "Delete": on_delete,
}
