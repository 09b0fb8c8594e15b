"""What the authorization tests put in their members-only circle, and route
rules filled with the ids of it."""

from __future__ import annotations

import datetime as dt

from models import clock
from models.circles import Circle
from models.posts import Post
from models.services import governance, reflections, resources
from models.services import meetings as meeting_service
from tests import factories


async def add_contents(instance, facilitator, member, circle: Circle) -> tuple[dict[str, str], Post]:
    """The member's post, resource and shared reflection, and the
    facilitator's meeting and proposal. Returns the route placeholders filled
    with their ids, in the order `filled` needs them (a post id is the
    meeting's under /meetings/ and the proposal's under /proposals/), and the post."""
    post = await factories.post(instance, member, circle, title="Bob asks", body="What is a monad?")
    meeting = await meeting_service.schedule(
        instance, facilitator.actor, circle, title="Reading group", agenda="Chapter 3", timezone="UTC",
        place="Library", online_url="", capacity="",
        starts_local=(clock.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        ends_local=(clock.now() + dt.timedelta(days=3, hours=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    proposal = await governance.propose(instance, facilitator.actor, circle, kind="free_text", title="Weekly?",
                                        body="Every Tuesday.", closes_at=clock.now() + dt.timedelta(days=3))
    resource = await resources.add_resource(instance, member.actor, circle, title="A guide", description="Short",
                                            link="https://example.org/guide")
    reflection = await reflections.write(instance, member.actor, circle, body="I learnt to ask", share=True)
    ids = {
        "<handle>": circle.handle, "<int:resource_id>": str(resource.id), "<int:reflection_id>": str(reflection.id),
        "/meetings/<int:post_id>": f"/meetings/{meeting.post_id}",
        "/proposals/<int:post_id>": f"/proposals/{proposal.post_id}",
        "<int:post_id>": str(post.id),
    }
    return ids, post


def filled(rule: str, ids: dict[str, str]) -> str:
    """`rule` with each placeholder replaced, in the order of `ids`."""
    for placeholder, value in ids.items():
        rule = rule.replace(placeholder, value)
    return rule
