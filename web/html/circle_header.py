"""The header on every page of a circle (web/templates/circles/_header.html): the
viewer's standing in the circle, loaded once per request whichever tab asked."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup
from quart import g

from models.circles import Circle, Membership, MembershipState
from models.services import circles as circle_service
from models.text import render_markdown
from web import security
from web.i18n import N_

# The tabs of a circle (labels translated where shown): the first PRIMARY_TABS always
# show, the rest sit behind "More" so that a phone never scrolls sideways.
CIRCLE_TABS = (
    ("circles.show", N_("Discussion")),
    ("questions.index", N_("Questions")),
    ("resources.library", N_("Resources")),
    ("meetings.circle_meetings", N_("Meetings")),
    ("circles.members", N_("Members")),
    ("circles.about", N_("About")),
    ("reviews.index", N_("Peer review")),
    ("reflections.index", N_("Reflections")),
    ("reflections.record", N_("Learning record")),
    ("tutoring.index", N_("Tutoring")),
    ("dashboard.show", N_("How we are doing")),
    ("governance.decisions", N_("Decisions")),
    ("sisters.index", N_("Sister circles")),
)
PRIMARY_TABS = 6


async def viewer_membership(circle: Circle) -> Membership | None:
    """The signed-in viewer's membership of `circle` (any state), or None; one query a request."""
    account = security.current_account()
    if account is None:
        return None
    cache = g.setdefault("circle_memberships", {})
    if circle.id not in cache:
        cache[circle.id] = await circle_service.membership(circle, account.actor)
    return cache[circle.id]


@lru_cache(maxsize=1024)
def markdown_as_text(source: str) -> str:
    """Markdown (a circle's purpose) as the plain text it reads as, for a one-line summary;
    cached, as every page of a circle shows it and rendering costs a few milliseconds."""
    return Markup(render_markdown(source or "")).striptags()


def is_active_steward(membership: Membership | None) -> bool:
    return bool(
        membership and membership.state is MembershipState.ACTIVE and membership.role in circle_service.STEWARD_ROLES
    )
