"""Who hears of a post in a circle, and in which shape: what each kind of
receiving server accepts, read from its own receiving code.

- Group-aware followers of a circle here (Lemmy, Mbin, other Circles; any
  host whose NodeInfo does not say microblogging) get every post and every
  change as the circle's Announce of the activity (FEP-1b12).
- Microblogging followers (Mastodon and its kin) get only top-level posts
  and the circle's own notes, in the shapes they act on: the circle's
  Announce of the post itself (by id), its Undo when the post goes, and the
  author's own Update and Delete (Mastodon applies those only from the
  author). See `_circle_plans`.
- The people a reply answers, on their own servers, get the author's own
  activity, addressed and mentioned so they are notified (convert._mention).
- A local person's followers elsewhere get the author's own activity too.
"""

from __future__ import annotations

from federation import convert, documents, nodeinfo, parse, vocab
from federation.runtime import Federation
from models.actors import Actor, ActorKind
from models.federation import OutboxEvent
from models.posts import Post
from models.services import follows

Addressee = Actor | follows.Recipient  # whom an activity is delivered to: inbox_url, shared_inbox_url, id
Plan = tuple[Actor, dict, list[Addressee]]  # who signs, the activity, who receives it


def inbox_of(actor: Addressee) -> str | None:
    return actor.shared_inbox_url or actor.inbox_url


async def by_software(fed: Federation, recipients: list[Addressee]) -> tuple[list[Addressee], list[Addressee]]:
    """The recipients on group-aware servers, and those on microblogging ones
    (nodeinfo.py), each in the order given."""
    microblogging = await nodeinfo.microblogging_hosts(fed, [inbox_of(r) or "" for r in recipients])
    group_aware: list[Addressee] = []
    on_microblogging: list[Addressee] = []
    for recipient in recipients:
        on = parse.host_of(inbox_of(recipient) or "") in microblogging
        (on_microblogging if on else group_aware).append(recipient)
    return group_aware, on_microblogging


async def post_event(fed: Federation, event: OutboxEvent) -> list[Plan]:
    post = await Post.get_or_none(id=event.subject_id).select_related(
        "author", "circle__actor", "in_reply_to", "accepted_answer"
    )
    if post is None or post.circle is None:
        return []
    refs = await documents.post_refs(post)
    if not post.circle.actor.local:
        # Our member writes in a circle elsewhere: the circle re-shares it.
        plans = await _author_plans(post, event, refs, [post.circle.actor])
        return _members_only(post, plans) if post.circle.members_only else plans
    group_aware, on_microblogging = await by_software(fed, await follows.remote_followers(post.circle.actor))
    if post.circle.members_only:
        return _members_only(post, _circle_plans(post, event, refs, group_aware, []))
    microblog = on_microblogging if _shown_to_microblogging(post) else []
    return [
        *_circle_plans(post, event, refs, group_aware, microblog),
        *await _author_plans(post, event, refs, microblog),
    ]


def _members_only(post: Post, plans: list[Plan]) -> list[Plan]:
    """A members-only circle's activities go only to its followers, who are its
    members (following a circle is asking to join it), addressed to its
    followers collection, never Public. Microblogging servers get nothing:
    Mastodon refuses to accept a boost of a post that is not public
    (app/lib/activitypub/activity/announce.rb, `announceable?`), and Lemmy
    0.19 refuses any activity that is not public (crates/apub/src/activities/
    mod.rs, `verify_is_public`); README says so."""
    # A circle elsewhere that published no followers collection: addressed to the circle alone.
    followers = post.circle.actor.followers_url or post.circle.actor.uri
    for _signer, activity, _recipients in plans:
        _address_to_followers(activity, followers)
    return plans


def _address_to_followers(value, followers: str) -> None:
    """Replace Public by `followers` in every to/cc of an activity and of
    the activities and objects it carries."""
    if isinstance(value, list):
        for item in value:
            _address_to_followers(item, followers)
        return
    if not isinstance(value, dict):
        return
    for field in ("to", "cc"):
        if isinstance(value.get(field), list):
            addressed = [followers if a in vocab.PUBLIC_ALIASES else a for a in value[field]]
            value[field] = list(dict.fromkeys(addressed))
    _address_to_followers(value.get("object"), followers)


def _shown_to_microblogging(post: Post) -> bool:
    """Microblogging timelines show every announced comment as a post of its
    own: they get top-level posts and the circle's own notes (accepted
    answers, RSVP polls, decisions); the people a reply answers get it directly."""
    return post.root_id is None or post.author_id == post.circle.actor_id


def _circle_plans(post: Post, event: OutboxEvent, refs: dict, group_aware: list[Addressee],
                  microblog: list[Addressee]) -> list[Plan]:
    """What the circle itself sends its followers."""
    group = post.circle.actor
    plans = []
    if event.kind in ("post.created", "post.received"):
        # The author's own signed activity, as Lemmy relays it; ours is made here.
        inner = event.data.get("activity") or convert.post_to_create(post, author=post.author, circle_actor=group, **refs)
        plans.append((group, convert.announce_of(group, post, inner), group_aware))
        if microblog and post.author_id != group.id:  # the circle's own notes come as its Create (_author_plans)
            plans.append((group, convert.boost_of(group, post), microblog))
    elif event.kind == "post.updated":
        update = _update(post, event, refs)
        plans.append((group, convert.announce_of(group, post, update, suffix=f"update-{event.id}"), group_aware))
    elif event.kind == "post.deleted":
        delete = event.data.get("activity") or _delete(post, event)  # a remote deleter's own, relayed
        plans.append((group, convert.announce_of(group, post, delete, suffix=f"delete-{event.id}"), group_aware))
        if microblog and post.author_id != group.id:
            # Mastodon removes the circle's boost by the boost's own id
            # (Mastodon 4.6 app/lib/activitypub/activity/undo.rb:72-82).
            plans.append((group, convert.undo_of(group, convert.boost_of(group, post), f"undo-{event.id}"), microblog))
        if _is_removal(post, event) and not post.author.local:
            # The circle removed a post from elsewhere: its author's server hears it too.
            plans.append((group, delete, [post.author]))
    return [plan for plan in plans if plan[2]]


async def _author_plans(post: Post, event: OutboxEvent, refs: dict, circle_side: list[Addressee]) -> list[Plan]:
    """What a post's local author sends on their own behalf, to the people
    the post answers, their own followers and `circle_side`: a circle
    elsewhere, or this circle's microblogging followers. Servers apply a
    Create, Update or Delete of a post only from its author (Mastodon 4.6
    app/lib/activitypub/activity/update.rb:27-41, delete.rb:46-53); a post
    removed here is gone from its author's server too, so the author's
    Delete follows a removal."""
    if not post.local or event.kind == "post.received":
        return []
    author = post.author
    recipients = [*refs["mentions"], *await _followers_of(author, post)]
    if post.circle.actor.local and event.kind == "post.created" and author.id != post.circle.actor_id:
        circle_side = []  # microblogging followers get the circle's boost of a new post instead
    recipients += circle_side
    if not recipients:
        return []
    activity = _author_activity(post, event, refs)
    if author.kind is ActorKind.PERSON and author.followers_url:
        _copy_to(activity, author.followers_url)
    return [(author, activity, _unique(recipients))]


def _author_activity(post: Post, event: OutboxEvent, refs: dict) -> dict:
    if event.kind == "post.deleted":
        return _delete(post, event, by=post.author)
    if event.kind == "post.updated":
        return _update(post, event, refs)
    return convert.post_to_create(post, author=post.author, circle_actor=post.circle.actor, **refs)


async def _followers_of(author: Actor, post: Post) -> list[follows.Recipient]:
    """A local person's followers elsewhere (not the circle: it has its own plans)."""
    if author.kind is not ActorKind.PERSON:
        return []
    return [f for f in await follows.remote_followers(author) if f.id != post.circle.actor_id]


def _copy_to(activity: dict, address: str) -> None:
    """Add an address to an activity and the object it carries."""
    activity["cc"] = [*activity.get("cc", []), address]
    if isinstance(activity.get("object"), dict):
        activity["object"]["cc"] = [*activity["object"].get("cc", []), address]


def _unique(actors: list[Addressee]) -> list[Addressee]:
    return list({actor.id: actor for actor in actors}.values())


def _update(post: Post, event: OutboxEvent, refs: dict) -> dict:
    """The author's Update: a new id for each edit, as Lemmy drops an activity
    id it has seen (0.19.20 crates/apub/src/activities/community/announce.rs:163)."""
    create = convert.post_to_create(post, author=post.author, circle_actor=post.circle.actor, **refs)
    return {**create, "id": f"{post.uri}#update-{event.id}", "type": "Update"}


def _is_removal(post: Post, event: OutboxEvent) -> bool:
    return bool(event.data.get("by")) and event.data["by"] != post.author.uri


def _delete(post: Post, event: OutboxEvent, *, by: Actor | None = None) -> dict:
    """A Delete of the post by `by`, else by whoever the event says deleted it.
    A steward's removal carries `summary` (the reason, maybe empty): Lemmy
    reads a Delete with a summary as a moderator's removal, anything else as
    its author's deletion (0.19.20
    crates/apub/src/protocol/activities/deletion/delete.rs:40-42)."""
    deleter = by.uri if by is not None else event.data.get("by") or post.author.uri
    group = post.circle.actor
    activity = {"id": f"{deleter}#deletes/{event.id}", "type": "Delete", "actor": deleter,
                "to": [vocab.PUBLIC, group.uri], "audience": group.uri, "object": post.uri}
    if deleter != post.author.uri:
        activity["summary"] = event.data.get("summary", "")
    return activity
