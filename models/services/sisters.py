"""Sister circles: a circle follows another circle, here or elsewhere, and its
stewards choose which kinds of the sister's posts show in its sister feed.

The follow is an ordinary Follow row from the circle's Group actor, so a
remote sister's Accept and Announces arrive as they do for people; a local
sister needs no network and counts as accepted at once."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.actors import Actor, ActorKind, Follow, FollowState
from models.circles import Circle
from models.errors import Conflict, InvalidInput, NotFound
from models.posts import Post
from models.services import circles as circle_service
from models.services import follows, validation
from models.services.posts import PAGE_SIZE
from models.sisters import SISTER_KINDS, SisterLink

MAX_SISTERS = 50  # sisters of one circle: a feed of more would be noise


@dataclass(frozen=True)
class Sister:
    link: SisterLink
    circle: Circle  # the sister circle (a mirror row for one elsewhere)
    state: FollowState | None  # None: the follow is gone (refused and cleared, or the sister was removed)

    @property
    def accepted(self) -> bool:
        return self.state is FollowState.ACCEPTED


def validate_kinds(kinds: list[str] | None) -> list[str]:
    """The chosen kinds, in a fixed order; at least one, each a kind a sister feed shows."""
    allowed = {kind.value for kind in SISTER_KINDS}
    chosen = {str(kind).strip() for kind in (kinds or [])}
    if not chosen:
        raise InvalidInput("Choose at least one kind of post to show from this circle.", field="kinds")
    if chosen - allowed:
        names = ", ".join(kind.value for kind in SISTER_KINDS)
        raise InvalidInput("Kinds of posts must be among: %(kinds)s.", field="kinds", kinds=names)
    return [kind.value for kind in SISTER_KINDS if kind.value in chosen]


async def link(
    circle: Circle, by: Actor, sister: Actor, kinds: list[str] | None = None, *, instance_base_url: str
) -> SisterLink:
    """The circle starts following `sister`. Stewards only. A remote sister
    gets a Follow from the circle's Group actor and answers in time."""
    await _require_local(circle)
    await circle_service.require_steward(circle, by)
    chosen = validate_kinds(kinds) if kinds is not None else None
    if sister.kind is not ActorKind.GROUP:
        raise InvalidInput("That is a person, not a circle: only circles can be sisters.", field="handle")
    if sister.id == circle.actor_id:
        raise InvalidInput("A circle cannot be its own sister: name another circle.", field="handle")
    if await SisterLink.filter(circle=circle).count() >= MAX_SISTERS:
        raise Conflict("A circle can follow at most %(max)d sisters: unlink one first.", field="handle",
                       max=MAX_SISTERS)
    if await SisterLink.filter(circle=circle, sister=sister).exists():
        raise Conflict("This circle already follows that one.", field="handle")
    async with in_transaction():
        try:
            created = await SisterLink.create(circle=circle, sister=sister, **({"kinds": chosen} if chosen else {}))
        except IntegrityError:
            raise Conflict("This circle already follows that one.", field="handle") from None
        if sister.local:
            await _follow_locally(circle.actor, sister)
        else:
            await follows.follow_remote(circle.actor, sister, instance_base_url=instance_base_url)
    return created


async def _follow_locally(follower: Actor, sister: Actor) -> None:
    """The sister's posts are already here: accepted at once, nothing to send."""
    follow = await Follow.get_or_none(follower=follower, target=sister)
    if follow is None:
        await Follow.create(follower=follower, target=sister, state=FollowState.ACCEPTED)
    elif follow.state is not FollowState.ACCEPTED:
        follow.state = FollowState.ACCEPTED
        await follow.save(update_fields=["state"])


async def _require_local(circle: Circle) -> None:
    await circle.fetch_related("actor")
    if not circle.actor.local:
        raise NotFound("Sister circles are chosen on the circle's own server.")


async def get_link(circle: Circle, link_id: int) -> SisterLink:
    found = await SisterLink.get_or_none(id=link_id, circle=circle).select_related("sister") \
        if validation.is_row_id(link_id) else None
    if found is None:
        raise NotFound("This circle does not follow that circle (any more).")
    return found


async def set_kinds(circle: Circle, by: Actor, sister: Actor, kinds: list[str]) -> SisterLink:
    await circle_service.require_steward(circle, by)
    chosen = validate_kinds(kinds)
    found = await SisterLink.get_or_none(circle=circle, sister=sister)
    if found is None:
        raise NotFound("This circle does not follow that circle (any more).")
    found.kinds = chosen
    await found.save(update_fields=["kinds"])
    return found


async def unlink(circle: Circle, by: Actor, sister: Actor) -> None:
    """Stop following a sister; a remote one is told with an Undo Follow."""
    await _require_local(circle)
    await circle_service.require_steward(circle, by)
    async with in_transaction():
        if not await SisterLink.filter(circle=circle, sister=sister).delete():
            raise NotFound("This circle does not follow that circle (any more).")
        if sister.local:
            await Follow.filter(follower_id=circle.actor_id, target=sister).delete()
        else:
            await follows.unfollow_remote(circle.actor, sister)


async def sisters_of(circle: Circle) -> list[Sister]:
    """The circle's sisters, oldest link first, with their circles and follow states (three queries)."""
    links = await SisterLink.filter(circle=circle).select_related("sister").order_by("id")
    sister_ids = [row.sister_id for row in links]
    circles = {
        row.actor_id: row for row in await Circle.filter(actor_id__in=sister_ids).select_related("actor")
    }
    states = dict(
        await Follow.filter(follower_id=circle.actor_id, target_id__in=sister_ids).values_list("target_id", "state")
    )
    return [
        Sister(link=row, circle=circles[row.sister_id], state=_state(states.get(row.sister_id)))
        for row in links if row.sister_id in circles
    ]


def _state(raw) -> FollowState | None:
    return FollowState(raw) if raw is not None else None


async def sister_feed(circle: Circle, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[Post]:
    """Top-level posts of the chosen kinds from accepted sisters, newest first;
    pass the last id seen as before_id for the next page."""
    chosen = [
        Q(circle_id=sister.circle.id, kind__in=sister.link.kinds)
        for sister in await sisters_of(circle) if sister.accepted and sister.link.kinds
    ]
    if not chosen:
        return []
    posts = Post.filter(Q(*chosen, join_type=Q.OR), root_id=None, deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        posts = posts.filter(id__lt=before_id)
    return await posts.select_related("author", "circle__actor").order_by("-id").limit(limit)
