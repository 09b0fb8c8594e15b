"""What a feed card shows beyond the post itself (web/templates/posts/_card.html):
a meeting's date, a proposal's state, a resource's link. Loaded for a whole
page of posts at once, one query per kind present, so a feed never queries
per card."""

from __future__ import annotations

from models.governance import Proposal
from models.meetings import Meeting
from models.posts import Post, PostKind
from models.resources import Resource

DETAIL_MODELS = {PostKind.MEETING: Meeting, PostKind.PROPOSAL: Proposal, PostKind.RESOURCE: Resource}


async def card_details(posts: list[Post]) -> dict[int, Meeting | Proposal | Resource]:
    """The Meeting, Proposal or Resource row of each post that has one, by post id."""
    details: dict[int, Meeting | Proposal | Resource] = {}
    for kind, model in DETAIL_MODELS.items():
        ids = [post.id for post in posts if post.kind == kind]
        if ids:
            details.update({row.post_id: row for row in await model.filter(post_id__in=ids)})
    return details
