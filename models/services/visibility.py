"""Who may read a circle's content: the one place that decides it.

A public circle's posts, questions, resources, meetings, shared reflections,
members and dashboard are for anyone. A members-only circle's are for its
active members only (not those waiting for approval, not the banned); its
profile (name, purpose, rules) stays public. The web layer asks this before
every page of a circle (web/html/visibility.py), and federation before it
serves or addresses a circle's objects.
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from models.actors import Actor
from models.circles import Circle, Membership, MembershipState, Visibility
from models.errors import PermissionDenied
from models.translation import N_

MEMBERS_ONLY = N_("Only members of %(circle)s can see this. Sign in if you are one; otherwise its About page says how to join.")


async def can_read(circle: Circle, actor: Actor | None) -> bool:
    if not circle.members_only:
        return True
    if actor is None:
        return False
    return await Membership.filter(circle_id=circle.id, actor_id=actor.id, state=MembershipState.ACTIVE).exists()


def remote_circle_visibility(group: Actor) -> Visibility:
    """What a circle on another server says about who reads it: a Group that
    approves its followers by hand keeps its content to them, as Lemmy reads
    it (a private community, crates/apub/objects/src/utils/functions.rs,
    `community_visibility`) and as a members-only circle here says it."""
    return Visibility.MEMBERS if group.manually_approves_followers else Visibility.PUBLIC


async def require_reader(circle: Circle, actor: Actor | None) -> None:
    if not await can_read(circle, actor):
        raise PermissionDenied(MEMBERS_ONLY, circle=circle.name)


def readable_circles(actor: Actor | None, prefix: str = "circle__") -> Q:
    """A filter for rows of many circles (posts, say, with `prefix` leading to
    their circle): public circles', rows of no circle, and the members-only
    circles `actor` is an active member of. One query, no N+1."""
    public = Q(**{f"{prefix}visibility": Visibility.PUBLIC}) | Q(**{f"{prefix}id__isnull": True})
    if actor is None:
        return public
    theirs = Membership.filter(actor_id=actor.id, state=MembershipState.ACTIVE).values("circle_id")
    return public | Q(**{f"{prefix}id__in": Subquery(theirs)})


async def has_member_on(circle: Circle, domain: str) -> bool:
    """An active member of the circle has an account on the server `domain`:
    that server may fetch the circle's members-only objects for them."""
    return await Membership.filter(
        circle_id=circle.id, state=MembershipState.ACTIVE, actor__local=False, actor__domain=domain
    ).exists()
