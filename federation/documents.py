"""What a post's ActivityStreams document says beyond its own row: the
keyword arguments convert.post_to_as takes, gathered in one place for every
path that renders a post (fan-out, post documents, collections)."""

from __future__ import annotations

from federation import polls
from models.actors import Actor, ActorKind
from models.posts import Post, PostKind
from models.services import media, meetings, reflections, resources


async def post_refs(post: Post) -> dict:
    """From a post loaded with select_related("in_reply_to", "accepted_answer").
    Queries only for posts of the kinds that need it (a resource's link and
    tags, a shared reflection's value cycle, a proposal's poll, a meeting)."""
    return (await post_refs_many([post]))[post.id]


async def post_refs_many(posts: list[Post]) -> dict[int, dict]:
    """post_refs for a page of posts (a collection), by post id, in a fixed
    number of queries whatever the number of posts."""
    found = await resources.resources_of_posts(posts)
    tags = await resources.tags_of_many(list(found.values()))
    cycles = await reflections.value_cycles_of(posts)
    polls_by_post = await polls.polls_of(posts)
    events = await meetings.meetings_of_posts(posts)
    # Only our own posts' images: a remote post is sent on by its address, not re-rendered.
    images = await media.media_of([post.id for post in posts if post.local])
    answered = await _people_answered(posts)
    refs = {}
    for post in posts:
        resource = found.get(post.id)
        refs[post.id] = {
            "parent_uri": post.in_reply_to.uri if post.in_reply_to_id else None,
            "accepted_answer_uri": post.accepted_answer.uri if post.accepted_answer_id else None,
            "value_cycle": cycles.get(post.id),
            "resource": resource,
            "resource_tags": tags[resource.id] if resource else (),
            "poll": polls_by_post.get(post.id),
            "meeting": events.get(post.id),
            "media": images.get(post.id, []),
            "mentions": answered.get(post.id, []),
        }
    return refs


async def _people_answered(posts: list[Post]) -> dict[int, list[Actor]]:
    """The people elsewhere whom each of our replies answers, by post id: the
    author of the post it replies to, and, for the circle's note that an
    answer was accepted, that answer's author. Their servers learn of the
    reply only if it is addressed to them (federation/convert.py `_mention`)."""
    replies = [p for p in posts if p.local and p.in_reply_to_id]
    notes = {p.id: p.in_reply_to.accepted_answer_id for p in replies
             if p.kind is PostKind.ANSWER and p.in_reply_to.accepted_answer_id}
    answer_authors = dict(await Post.filter(id__in=list(notes.values())).values_list("id", "author_id")) if notes else {}
    wanted = {
        p.id: [p.in_reply_to.author_id, *([answer_authors.get(notes[p.id])] if p.id in notes else [])]
        for p in replies
    }
    ids = {actor_id for ids in wanted.values() for actor_id in ids if actor_id}
    people = {a.id: a for a in await Actor.filter(id__in=list(ids), local=False, kind=ActorKind.PERSON)} if ids else {}
    return {
        post_id: list({people[i].id: people[i] for i in ids if i in people}.values())
        for post_id, ids in wanted.items()
        if any(i in people for i in ids)
    }
