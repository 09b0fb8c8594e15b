"""What a post's ActivityStreams document says beyond its own row: the
keyword arguments convert.post_to_as takes, gathered in one place for every
path that renders a post (fan-out, post documents, collections)."""

from __future__ import annotations

from federation import polls
from models.meetings import Meeting
from models.posts import Post, PostKind
from models.services import media, reflections, resources


async def post_refs(post: Post) -> dict:
    """From a post loaded with select_related("in_reply_to", "accepted_answer").
    Queries only for posts of the kinds that need it (a resource's link and
    tags, a shared reflection's value cycle, a proposal's poll, a meeting)."""
    resource = await resources.resource_of_post(post)
    return {
        "parent_uri": post.in_reply_to.uri if post.in_reply_to_id else None,
        "accepted_answer_uri": post.accepted_answer.uri if post.accepted_answer_id else None,
        "value_cycle": await reflections.value_cycle_of(post),
        "resource": resource,
        "resource_tags": await resources.tags_of(resource) if resource else (),
        "poll": await polls.poll_of(post),
        "meeting": await Meeting.get_or_none(post_id=post.id) if post.kind is PostKind.MEETING else None,
        # Only our own posts' images: a remote post is sent on by its address, not re-rendered.
        "media": (await media.media_of([post.id])).get(post.id, []) if post.local else [],
    }
