"""Remote actors and the content they send: validated inputs in, rows out.

Federation turns hostile JSON into the typed inputs below (federation/convert.py)
before anything here sees it; these functions trust only their types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import clock, live
from models.actors import Actor, ActorKey, ActorKind, Follow, FollowState, KeyAlgorithm
from models.circles import Circle, JoinMode, Membership, MembershipState, Role
from models.errors import Conflict, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.instance import Instance
from models.moderation import Report
from models.posts import Like, Post, PostKind
from models.services import circles as circle_service
from models.services import media as media_service
from models.services import meetings as meeting_service
from models.services import follows, governance_decisions, moderation, notification_events, person_blocks
from models.services import post_edits
from models.services import posts as post_service
from models.services import remote_polls
from models.services import resources as resource_service
from models.services import visibility
from models.services.memberships import end_membership
from models.text import clean_html, plain_excerpt

ACTOR_REFRESH_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True)
class RemoteKey:
    key_id: str
    algorithm: KeyAlgorithm
    public_pem: str


@dataclass(frozen=True)
class RemoteActorInput:
    uri: str
    kind: ActorKind
    username: str
    domain: str
    inbox_url: str
    display_name: str = ""
    summary_html: str = ""
    profile_url: str | None = None
    shared_inbox_url: str | None = None
    outbox_url: str | None = None
    followers_url: str | None = None
    following_url: str | None = None
    manually_approves_followers: bool = False
    keys: tuple[RemoteKey, ...] = field(default_factory=tuple)
    avatar_url: str | None = None  # checked by federation/convert.py: http(s), no private address


async def remote_actor(uri: str) -> Actor | None:
    return await Actor.get_or_none(uri=uri, local=False)


def is_stale(actor: Actor) -> bool:
    return actor.fetched_at is None or actor.fetched_at < clock.now() - ACTOR_REFRESH_AFTER


async def upsert_actor(data: RemoteActorInput) -> Actor:
    """Create or refresh a remote actor and its published keys."""
    values = dict(
        kind=data.kind, local=False, username=data.username[:255], domain=data.domain[:255],
        display_name=data.display_name[:255], summary=clean_html(data.summary_html),
        profile_url=data.profile_url, inbox_url=data.inbox_url, shared_inbox_url=data.shared_inbox_url,
        outbox_url=data.outbox_url, followers_url=data.followers_url, following_url=data.following_url,
        manually_approves_followers=data.manually_approves_followers, avatar_url=data.avatar_url,
        fetched_at=clock.now(),
    )
    try:
        return await _upsert(data, values)
    except IntegrityError:
        # Stored by another request or the worker at the same moment (both had
        # fetched it: a signed activity and an Announce of it, say). This try was
        # rolled back; now the row is there, so this one refreshes it.
        return await _upsert(data, values)


async def _upsert(data: RemoteActorInput, values: dict) -> Actor:
    async with in_transaction():
        actor = await Actor.get_or_none(uri=data.uri)
        if actor is not None and actor.local:
            raise PermissionDenied("A remote document claims a local actor's id.")
        if actor is None:
            # Another actor may hold the name@domain (renamed or moved): free the handle.
            for stale in await Actor.filter(username=values["username"], domain=values["domain"], local=False):
                stale.username = f"{stale.username[:200]}~{stale.id}"
                await stale.save(update_fields=["username"])
            actor = await Actor.create(uri=data.uri, **values)
        else:
            await Actor.filter(id=actor.id).update(updated_at=clock.now(), **values)
            await actor.refresh_from_db()
            if actor.kind is ActorKind.GROUP:  # a circle elsewhere may have been renamed or changed who reads it
                await Circle.filter(actor_id=actor.id).update(
                    name=follows.remote_circle_name(actor), visibility=visibility.remote_circle_visibility(actor)
                )
        await _replace_keys(actor, data.keys)
    return actor


async def _replace_keys(actor: Actor, keys: tuple[RemoteKey, ...]) -> None:
    published = {k.key_id: k for k in keys}
    for existing in await ActorKey.filter(actor=actor, revoked_at=None):
        new = published.pop(existing.key_id, None)
        if new is None or new.public_pem != existing.public_pem:
            existing.revoked_at = clock.now()
            await existing.save(update_fields=["revoked_at"])
            if new is not None:
                published[new.key_id] = new
    for key in published.values():
        try:
            await ActorKey.filter(key_id=key.key_id, actor=actor).delete()
            await ActorKey.create(actor=actor, key_id=key.key_id, algorithm=key.algorithm, public_pem=key.public_pem)
        except IntegrityError:
            raise Conflict("The key %(key)s belongs to another actor.", key=key.key_id[:200]) from None


async def key_by_id(key_id: str) -> ActorKey | None:
    """A current remote key and its owner."""
    return await ActorKey.filter(key_id=key_id, revoked_at=None).select_related("actor").first()


async def delete_actor(uri: str, *, instance: Instance) -> bool:
    """A remote actor deleted itself: hide their posts (replies by others stay),
    end their memberships (deciding a proposal only they had still to vote
    on), follows, likes and keys. The row stays as a tombstone, so threads
    keep their shape."""
    actor = await Actor.get_or_none(uri=uri, local=False)
    if actor is None:
        return False
    async with in_transaction():
        for post in await Post.filter(author=actor, deleted_at=None):
            await post_service.mark_deleted(post, by=None)
        ids = await Post.filter(author=actor).values_list("id", flat=True)  # and those deleted before
        await post_service.forget_revisions(list(ids), editor=actor)
        members = await Membership.filter(actor=actor)
        for member in members:
            await end_membership(member)
        await Follow.filter(Q(follower=actor) | Q(target=actor)).delete()
        await Like.filter(actor=actor).delete()
        await ActorKey.filter(actor=actor, revoked_at=None).update(revoked_at=clock.now())
        await Actor.filter(id=actor.id).update(inbox_url=None, shared_inbox_url=None, updated_at=clock.now())
    await governance_decisions.decide_after_leaving(instance, [m.circle_id for m in members])
    return True


# --- remote posts ------------------------------------------------------------------


@dataclass(frozen=True)
class RemotePostInput:
    uri: str
    author_uri: str
    content_html: str
    title: str = ""
    url: str | None = None
    in_reply_to_uri: str | None = None
    circle_uri: str | None = None  # the local circle it is addressed to, if any
    public: bool = True  # addressed to the Public collection (public or unlisted)
    language: str = ""
    published_at: dt.datetime | None = None
    kind: PostKind = PostKind.DISCUSSION
    accepted_answer_uri: str | None = None  # a question's accepted answer (Circles)
    names_accepted_answer: bool = False  # the object has the acceptedAnswer key (even empty: withdrawn)
    link: str | None = None  # the web page a link post shares: a library resource
    tags: tuple[str, ...] = ()  # its Hashtag names, as sent
    meeting: meeting_service.RemoteMeetingInput | None = None  # when and where, for an Event
    poll: remote_polls.RemotePollInput | None = None  # a Question's options
    images: tuple[media_service.RemoteImageInput, ...] = ()  # attached images, by address
    mentions: tuple[str, ...] = ()  # ids of the actors its Mention tags name


async def post_by_uri(uri: str) -> Post | None:
    return await Post.get_or_none(uri=uri).select_related("author", "circle__actor")


async def store_announced_post(data: RemotePostInput, author: Actor, group: Actor) -> Post | None:
    """A post a remote circle we follow re-shared to us: the circle vouches for
    its members, so no membership check here."""
    circle = await Circle.get_or_none(actor=group).select_related("actor")
    if circle is None or group.local or await moderation.is_blocked(moderation.host_of(author.uri)):
        return None  # not a circle we follow, or its author's domain is blocked here
    if not await Follow.filter(target=group, state=FollowState.ACCEPTED, follower__local=True).exists():
        return None  # nobody here follows this circle (any more): nothing to take from it
    if not data.public and not circle.members_only:
        return None  # a followers-only post of a circle that says it is public: not ours to show
    existing = await post_by_uri(data.uri)
    if existing is not None:
        # A post we keep from someone people here follow joins the circle only if
        # it was addressed to it: any group could re-share any public post.
        if (existing.circle_id is None and not existing.local and existing.author_id == author.id
                and data.circle_uri == group.uri):
            return await _adopt(existing, data, circle)
        return existing
    parent = await post_by_uri(data.in_reply_to_uri) if data.in_reply_to_uri else None
    if parent is not None and parent.circle_id != circle.id:
        parent = None
    return await _insert_remote(data, author, circle, parent, event=None)


async def _adopt(post: Post, data: RemotePostInput, circle: Circle) -> Post:
    """A post we first had from its author (someone here follows them) turns
    out to belong to a circle we follow: give it its place in the circle."""
    async with in_transaction():
        if not await Post.filter(id=post.id, circle_id=None).update(circle_id=circle.id, kind=data.kind):
            return await post_by_uri(data.uri)  # adopted meanwhile
        post.circle, post.kind = circle, data.kind
        if post.root_id is None:
            await Circle.filter(id=circle.id).update(post_count=F("post_count") + 1)
        await _store_extras(post, data, post.root_id)
    return post


FOLLOWED_KINDS = (PostKind.DISCUSSION, PostKind.QUESTION, PostKind.REFLECTION, PostKind.REVIEW)


async def store_followed_post(data: RemotePostInput, author: Actor) -> Post | None:
    """A post (public, or to the author's followers) from someone people here
    follow, outside any circle we hold: kept for their profile page and our
    followers' home pages. A reply is kept only in a thread we have. None when
    nobody here follows the author. Idempotent by uri."""
    followed = Follow.filter(target=author, state=FollowState.ACCEPTED, follower__local=True)
    if author.local or not await followed.exists():
        return None
    existing = await post_by_uri(data.uri)
    if existing is not None:
        return existing
    parent = await post_by_uri(data.in_reply_to_uri) if data.in_reply_to_uri else None
    if data.in_reply_to_uri and parent is None:
        return None
    if parent is not None and parent.circle is not None:
        if parent.circle.actor.local:
            return None  # a conversation in a circle here: only its members take part
        return await _insert_remote(data, author, parent.circle, parent, event=None)
    if data.kind not in FOLLOWED_KINDS:  # meetings, resources live in circles
        data = replace(data, kind=PostKind.DISCUSSION)
    return await _insert_remote(data, author, None, parent, event=None)


async def store_post(data: RemotePostInput, author: Actor, *, activity: dict | None = None) -> Post | None:
    """Store a remote post that takes part in a local circle, or None when it
    has no place here (not addressed to a circle we host, nor in a thread we
    hold). Idempotent by uri. Writes a 'post.received' event so the circle
    announces it to its followers."""
    existing = await post_by_uri(data.uri)
    if existing is not None:
        return existing
    parent = await post_by_uri(data.in_reply_to_uri) if data.in_reply_to_uri else None
    circle = parent.circle if parent is not None else None
    if circle is None and data.circle_uri:
        circle = await Circle.filter(actor__uri=data.circle_uri, actor__local=True).select_related("actor").first()
    if circle is None or not circle.actor.local:
        return None  # a remote circle's posts reach us through its Announces
    member = await circle_service.membership(circle, author)
    if member is None or member.state is not MembershipState.ACTIVE:
        await _refuse_non_member(data, author, circle, member)
        raise PermissionDenied("Join this circle to take part in it.")
    if not data.public and not circle.members_only:
        await _refuse_private(data, author, circle)
        return None
    # The circle re-shares the author's own activity (FEP-1b12), so keep it.
    return await _insert_remote(data, author, circle, parent, event={"activity": activity or {}})


NOT_PUBLIC_ANSWER = (
    "Your message to the circle “{name}” was not posted: a circle re-shares what it receives with all its "
    "followers, so it takes only public (or unlisted) posts, and your message was meant for fewer people. "
    "Send it again as a public post to share it with the circle."
)


async def _refuse_private(data: RemotePostInput, author: Actor, circle: Circle) -> None:
    """A followers-only or direct post addressed to a circle: the circle would
    re-share it to everyone who follows it, which its author did not choose. It
    is not stored; the circle tells its author why, to them alone."""
    await circle_service.answer_directly(
        circle, author.uri, in_reply_to=data.uri, text=NOT_PUBLIC_ANSWER.format(name=circle.name)
    )


NOT_MEMBER_ANSWER = (
    "Your message to the circle “{name}” was not posted: only its members post in it. {how} "
    "Then send your message again."
)
HOW_TO_JOIN = {
    JoinMode.OPEN: "Follow {handle} to join it: it welcomes everyone.",
    JoinMode.APPROVAL: "Follow {handle} to ask to join it: a facilitator answers each request.",
    JoinMode.INVITE: "It takes new members by invitation: ask one of its facilitators.",
}
WAITING_ANSWER = "Your request to join is waiting for a facilitator's answer."
ANSWER_AT_MOST_EVERY = dt.timedelta(hours=1)  # a flood of posts gets one answer, not one each


async def _refuse_non_member(data: RemotePostInput, author: Actor, circle: Circle, member: Membership | None) -> None:
    """Someone who is not (yet) a member writes in a circle here: it is not
    posted, and the circle tells them how to join, to them alone. Banned
    people are not answered."""
    if member is not None and member.state is MembershipState.BANNED:
        return
    if await _answered_recently(circle, author):
        return
    handle = f"@{circle.actor.username}@{circle.actor.domain}"
    how = WAITING_ANSWER if member is not None else HOW_TO_JOIN[circle.join_mode].format(handle=handle)
    await circle_service.answer_directly(
        circle, author.uri, in_reply_to=data.uri, text=NOT_MEMBER_ANSWER.format(name=circle.name, how=how)
    )


async def _answered_recently(circle: Circle, person: Actor) -> bool:
    recent = await OutboxEvent.filter(
        kind="circle.direct_answer", subject_id=circle.id, created_at__gt=clock.now() - ANSWER_AT_MOST_EVERY
    ).values_list("data", flat=True)
    return any(isinstance(data, dict) and data.get("to") == person.uri for data in recent)


async def _insert_remote(
    data, author: Actor, circle: Circle | None, parent: Post | None, *, event: dict | None
) -> Post:
    """A remote post stored once, in `circle` (with what a circle post carries:
    meeting, poll, library resource) or, with None, outside any circle."""
    root_id = (parent.root_id or parent.id) if parent else None
    if parent is not None:
        await person_blocks.refuse_if_blocked(author, await parent.author, post_service.REPLY_BLOCKED)
    async with in_transaction():
        try:
            post = await Post.create(
                uri=data.uri, url=data.url, circle=circle, author=author, kind=data.kind,
                title=data.title[:200], source="", content=clean_html(data.content_html),
                language=data.language[:16], local=False, in_reply_to=parent, root_id=root_id,
                published_at=min(data.published_at or clock.now(), clock.now()),
            )
        except IntegrityError:  # the same post arrived twice at once
            return await post_by_uri(data.uri)
        if data.images:
            await media_service.store_remote(post, author, data.images)
        if root_id:
            if circle is None or author.id != circle.actor_id:  # the circle's own notes are not counted
                await Post.filter(id=root_id).update(reply_count=F("reply_count") + 1)
        elif circle is not None:
            await Circle.filter(id=circle.id).update(post_count=F("post_count") + 1)
        if circle is not None:
            await _store_extras(post, data, root_id)
        if event is not None:
            await OutboxEvent.create(kind="post.received", subject_id=post.id, data=event)
        await notification_events.post_written(
            post, author, circle, parent, mentioned=await notification_events.mentioned_by_uri(data.mentions)
        )
        # Open thread pages, and the client API's streams (models/live.py).
        await live.announce(live.POSTS, f"thread:{root_id}" if root_id else "")
    post.circle = circle
    return post


async def _store_extras(post: Post, data: RemotePostInput, root_id: int | None) -> None:
    """A circle post's meeting, poll and library resource, when it has them."""
    if data.meeting is not None and root_id is None:
        await meeting_service.store_remote(post, data.meeting)
    if data.poll is not None:
        await remote_polls.store(post, data.poll)
    if data.link and not root_id:
        await resource_service.store_remote(post, data.link, list(data.tags))


async def update_post(data: RemotePostInput, author: Actor) -> Post:
    post = await post_by_uri(data.uri)
    if post is None or post.local:
        raise NotFound("No such remote post here.")
    if post.author_id != author.id:
        raise PermissionDenied("Only the author can update a post.")
    if not data.public and not (post.circle is not None and post.circle.members_only):
        # The author narrowed who may see it: it leaves our pages, and a circle here
        # tells its followers (it had re-shared the public version).
        group = post.circle.actor if post.circle is not None and post.circle.actor.local else None
        async with in_transaction():
            await post_service.mark_deleted(post, by=group)
        return post
    content, title = clean_html(data.content_html), data.title[:200]
    # A new text keeps the old one in the post's history (Mastodon's poll counts change none).
    before = (post.title, post.content) if (title, content) != (post.title, post.content) else None
    post.content, post.title, post.updated_at = content, title, clock.now()
    fields = ["content", "title", "updated_at"]
    if post.root_id is None and data.names_accepted_answer:  # Mastodon's edits never name one
        fields += await _set_accepted_answer(post, data.accepted_answer_uri)
    async with in_transaction():
        if before is not None:
            await post_edits.keep_revision(post, title=before[0], content=before[1], by_id=author.id)
        await post.save(update_fields=fields)
        if "accepted_answer_id" in fields and post.accepted_answer_id is not None:
            await notification_events.answer_accepted(post, await Post.get(id=post.accepted_answer_id), author)
        if data.link and post.circle_id is not None:  # a library resource lives in a circle
            await resource_service.update_remote(post, data.link, list(data.tags))
        if data.meeting is not None and post.kind is PostKind.MEETING and post.root_id is None:
            await meeting_service.store_remote(post, data.meeting)
        if data.poll is not None:
            await remote_polls.store(post, data.poll)
        await media_service.store_remote(post, author, data.images)  # an edit may add or remove images
        await OutboxEvent.create(kind="post.updated", subject_id=post.id)
    return post


async def _set_accepted_answer(question: Post, answer_uri: str | None) -> list[str]:
    """Follow the asker's choice of answer (a reply in the same thread); the
    fields changed. A post that names an answer is a question."""
    answer = (
        await Post.get_or_none(uri=answer_uri, root_id=question.id, deleted_at=None) if answer_uri else None
    )
    if (answer.id if answer else None) == question.accepted_answer_id:
        return []
    question.accepted_answer_id = answer.id if answer else None
    question.answered_at = clock.now() if answer else None
    if answer and question.kind is PostKind.DISCUSSION:
        question.kind = PostKind.QUESTION
    return ["accepted_answer_id", "answered_at", "kind"]


async def delete_post(uri: str, by: Actor, *, activity: dict | None = None) -> Post:
    """A remote author (or a steward of the circle) deletes a post."""
    post = await post_by_uri(uri)
    if post is None:
        raise NotFound("No such post here.")
    if post.author_id != by.id and not (post.circle is not None and post.circle.actor_id == by.id):
        if post.circle is None:
            raise PermissionDenied("Only the author can delete a post.")
        await circle_service.require_steward(post.circle, by)
    async with in_transaction():
        await post_service.mark_deleted(post, by=by, activity=activity)
    return post


# --- reactions and reports -------------------------------------------------------------


async def like(actor: Actor, post_uri: str, like_uri: str) -> bool:
    """A like of one of our posts; False when the post is not here. Idempotent.
    In a circle here, only its members' likes count (they rank the library)."""
    post = await Post.get_or_none(uri=post_uri, deleted_at=None).select_related("circle__actor")
    if post is None:
        return False
    if post.circle is not None and post.circle.actor.local and not await circle_service.is_member(post.circle, actor):
        raise PermissionDenied("Only the circle's members' likes count here.")
    async with in_transaction():
        _like, created = await Like.get_or_create(actor=actor, post=post, defaults={"uri": like_uri})
        if created:
            await notification_events.liked(post, actor)
    return True


async def undo_like(actor: Actor, like_uri: str | None, post_uri: str | None) -> bool:
    """Undo by the Like's id, or, when that matches nothing (Lemmy sends a fresh
    id in its Undo), by the liked post."""
    if like_uri and await Like.filter(actor=actor, uri=like_uri).delete():
        return True
    return bool(post_uri) and bool(await Like.filter(actor=actor, post__uri=post_uri).delete())


async def block(blocker: Actor, blocked: Actor) -> None:
    """A remote actor blocks a local one: neither follows the other any more."""
    await Follow.filter(follower=blocker, target=blocked).delete()
    await Follow.filter(follower=blocked, target=blocker).delete()


async def report(reporter: Actor, *, target: Actor | None, object_uris: list[str], comment: str, uri: str) -> Report:
    """A Flag for moderators. Idempotent by the activity's id. A report of a
    post in one of our circles also goes to that circle's stewards."""
    existing = await Report.get_or_none(uri=uri)
    if existing is not None:
        return existing
    object_uris = [u[:2048] for u in object_uris[:20]]
    post = (
        await Post.filter(uri__in=object_uris, circle__actor__local=True).select_related("author").order_by("id").first()
        if object_uris else None
    )
    async with in_transaction():
        report = await Report.create(
            reporter=reporter, target_actor=target or (post.author if post else None), object_uris=object_uris,
            comment=plain_excerpt(comment, 5000), uri=uri, post=post, circle_id=post.circle_id if post else None,
        )
        circle = await Circle.get(id=post.circle_id).select_related("actor") if post is not None else None
        await notification_events.report_made(report, circle)
    return report


async def invited_elsewhere(inviter: Actor, group: Actor, person: Actor) -> bool:
    """A circle elsewhere invites one of our people (an Invite, as Mobilizon
    and Circles send it): they hear of it, with a link to the circle's page
    here, where joining sends the Follow that takes up the invitation. An
    invitation from someone they blocked is dropped."""
    if person.kind is not ActorKind.PERSON or await person_blocks.is_blocked_by(inviter, person):
        return False
    handle = f"{group.username}@{group.domain}"
    await notification_events.invited(person, inviter, f"{group.name} ({handle})", f"/c/{handle}")
    return True


async def banned_from_circle(group: Actor, person: Actor) -> bool:
    """A remote circle banned one of our people (Lemmy's Block with the
    community as target): they are no member of it here either, and stop
    following it. False when they were not in it."""
    if group.local or not person.local:
        return False
    member = await Membership.get_or_none(circle__actor=group, actor=person)
    async with in_transaction():
        await Follow.filter(follower=person, target=group).delete()
        if member is None or member.state is MembershipState.BANNED:
            return False
        await circle_service.change_membership_state(member, MembershipState.BANNED)
    return True


async def unbanned_from_circle(group: Actor, person: Actor) -> bool:
    """The circle lifted the ban: they may ask to join again."""
    if group.local or not person.local:
        return False
    member = await Membership.get_or_none(circle__actor=group, actor=person, state=MembershipState.BANNED)
    if member is None:
        return False
    async with in_transaction():
        await end_membership(member)
    return True


async def set_featured(group: Actor, post_uri: str, *, featured: bool) -> bool:
    """A remote circle pins or unpins one of its posts (Add/Remove to `featured`)."""
    post = await Post.get_or_none(uri=post_uri, circle__actor=group)
    if post is None:
        return False
    post.featured_at = clock.now() if featured else None
    await post.save(update_fields=["featured_at"])
    return True


async def set_remote_moderator(group: Actor, member: Actor, *, moderator: bool) -> bool:
    """A remote circle adds or removes a moderator; we keep it for our own
    members of that circle (whom we show their role)."""
    membership = await Membership.get_or_none(circle__actor=group, actor=member)
    if membership is None or group.local:
        return False
    membership.role = Role.MODERATOR if moderator else Role.MEMBER
    await membership.save(update_fields=["role"])
    return True
