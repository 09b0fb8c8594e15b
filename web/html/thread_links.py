"""Where a post is shown, as a link: the thread pages (web/html/posts.py) and
the actions on posts (web/html/post_actions.py, questions, reviews) all
redirect there, and import it from here rather than from each other."""

from __future__ import annotations

from quart import url_for

from models.services import threads


async def thread_url(post) -> str:
    """Where a post is shown: its thread, on the page it is on, scrolled to it."""
    place = await threads.place_of(post)
    if place.anchor_id is not None:  # deeper than the thread page nests: its sub-thread
        return url_for("posts.show", post_id=place.anchor_id) + f"#post-{post.id}"
    page = place.page
    return url_for("posts.show", post_id=post.root_id or post.id, page=page if page > 1 else None) + f"#post-{post.id}"
