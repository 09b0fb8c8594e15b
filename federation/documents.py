"""What a post's ActivityStreams document says beyond its own row: the
keyword arguments convert.post_to_as takes, gathered in one place for every
path that renders a post (fan-out, post documents, collections)."""

from __future__ import annotations

from federation import polls
from models.posts import Post
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
        }
    return refs
