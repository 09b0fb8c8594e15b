"""Account and Relationship entities shaped as Mastodon's API documentation
and serializers shape them (https://docs.joinmastodon.org/entities/Account/,
/entities/Relationship/), and what every entity shares: ids as strings, ISO
8601 times, HTML content. Each function takes many rows and loads what it
needs in a fixed number of queries, so a page of 40 accounts costs no more
than one.

A circle (a Group actor) is an account with `group: true`, as Mastodon shows
groups from elsewhere: its members are its followers, and it is `locked` when
joining needs a facilitator's approval or an invitation.
"""

from __future__ import annotations

import datetime as dt

from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count, Max

from models.accounts import Account
from models.actors import Actor, ActorKind, Follow, FollowState
from models.circles import Circle, JoinMode, Membership, MembershipState, Visibility
from models.instance import Instance
from models.person_blocks import BlockKind, PersonBlock
from models.posts import Post
from models.services import visibility

# What Mastodon gives an account without a picture (a default image, never
# an empty string: app/models/concerns/account/avatar.rb `default_url`).
MISSING_AVATAR = "/static/avatar-missing.png"
MISSING_HEADER = "/static/header-missing.png"


def iso(moment: dt.datetime | None) -> str | None:
    """Mastodon's time format: UTC with milliseconds and a Z."""
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _midnight(moment: dt.datetime | None) -> str | None:
    """An account's `created_at` is the day only, at midnight UTC
    (app/serializers/rest/account_serializer.rb: `created_at.midnight`)."""
    if moment is None:
        return None
    day = moment.astimezone(dt.timezone.utc).date()
    return f"{day.isoformat()}T00:00:00.000Z"


def _day(moment: dt.datetime | str | None) -> str | None:
    """`last_status_at` is a date (`last_status_at&.to_date&.iso8601`).
    An aggregate's MAX comes back as text on SQLite."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.date().isoformat()


def acct(actor: Actor, instance: Instance) -> str:
    """`username` here, `username@domain` for everyone elsewhere."""
    return actor.username if actor.local else actor.handle


def _counted(rows: list[tuple]) -> dict[int, int]:
    return {key: count for key, count in rows}


async def _follow_counts(ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Accepted follows of and by each actor: two aggregate queries."""
    if not ids:
        return {}, {}
    accepted = Follow.filter(state=FollowState.ACCEPTED)
    followers = await accepted.filter(target_id__in=ids).annotate(n=Count("id")).group_by(
        "target_id").values_list("target_id", "n")
    following = await Follow.filter(state=FollowState.ACCEPTED, follower_id__in=ids).annotate(
        n=Count("id")).group_by("follower_id").values_list("follower_id", "n")
    return _counted(followers), _counted(following)


def joined_circles(viewer: Actor | None) -> Q:
    """Memberships that count as following a circle: active ones in circles
    here (one elsewhere has a Follow row of its own), and only those the
    viewer may know of (a members-only circle's members are for its members)."""
    return visibility.readable_circles(viewer) & Q(state=MembershipState.ACTIVE, circle__actor__local=True)


async def _circles_joined(ids: list[int], viewer: Actor | None) -> dict[int, int]:
    if not ids:
        return {}
    rows = await Membership.filter(joined_circles(viewer), actor_id__in=ids).annotate(
        n=Count("id")).group_by("actor_id").values_list("actor_id", "n")
    return _counted(rows)


async def _post_stats(person_ids: list[int], viewer: Actor | None) -> dict[int, tuple]:
    """(count, newest) of the posts each person wrote that the viewer may
    read: one query."""
    if not person_ids:
        return {}
    readable = Post.filter(visibility.readable_circles(viewer), author_id__in=person_ids, deleted_at=None)
    rows = await readable.annotate(n=Count("id"), last=Max("published_at")).group_by("author_id").values_list(
        "author_id", "n", "last")
    return {key: (count, last) for key, count, last in rows}


# The date of a circle's newest top-level post, found by walking the posts
# index on (circle_id, root_id, id) from its end: ids grow as posts arrive,
# and Mastodon's last_status_at is when the newest status arrived too (set
# to now() as it is counted: app/models/concerns/account/counters.rb); ordered
# by root_id too, which is null in every row, for PostgreSQL to see that order
# in the index (models/services/posts.NEWEST_TOP_LEVEL_FIRST says why). With
# the count the circle's row keeps (Circle.post_count, kept by the post
# services), a page reads no more of a big circle's posts than of a small one's.
_NEWEST_TOP_LEVEL = RawSQL(
    '(SELECT "p"."published_at" FROM "posts" "p" WHERE "p"."circle_id"="circles"."id" AND "p"."root_id" IS NULL'
    ' AND "p"."deleted_at" IS NULL ORDER BY "p"."root_id" DESC, "p"."id" DESC LIMIT 1)'
)


async def _circles_of(group_ids: list[int]) -> dict[int, Circle]:
    """The circles behind these Group actors, each with `newest_post_at`: one query."""
    if not group_ids:
        return {}
    circles = await Circle.filter(actor_id__in=group_ids).annotate(newest_post_at=_NEWEST_TOP_LEVEL)
    return {circle.actor_id: circle for circle in circles}


def _person_counts(actor: Actor, person: Account | None, viewer_actor: Actor | None,
                   followers: dict, following: dict, joined: dict, stats: dict) -> tuple:
    """Followers, following, statuses and the last status's date, as the
    person's profile choices let others see them (the profile page's rule):
    their circles and their posts are theirs to show."""
    yourself = viewer_actor is not None and viewer_actor.id == actor.id
    shows_circles = yourself or person is None or person.profile_shows_circles
    shows_posts = yourself or person is None or person.profile_shows_posts
    return (followers.get(actor.id, 0), following.get(actor.id, 0) + (joined.get(actor.id, 0) if shows_circles else 0),
            *(stats.get(actor.id, (0, None)) if shows_posts else (0, None)))


async def accounts(actors: list[Actor], *, instance: Instance, viewer: Account | None) -> list[dict]:
    """Account entities for these actors, in their order, in at most six
    queries whatever their number. `viewer` (with its actor loaded, as
    auth.current_account gives it) decides which posts and circles count."""
    if not actors:
        return []
    viewer_actor = viewer.actor if viewer is not None else None
    ids = [actor.id for actor in actors]
    group_ids = [actor.id for actor in actors if actor.kind is ActorKind.GROUP]
    person_ids = [actor.id for actor in actors if actor.kind is not ActorKind.GROUP]
    local_ids = [actor.id for actor in actors if actor.local and actor.kind is not ActorKind.GROUP]
    circles = await _circles_of(group_ids)
    people = {a.actor_id: a for a in await Account.filter(actor_id__in=local_ids)} if local_ids else {}
    followers, following = await _follow_counts(ids)
    joined = await _circles_joined(person_ids, viewer_actor)
    stats = await _post_stats(person_ids, viewer_actor)
    entities = []
    for actor in actors:
        circle = circles.get(actor.id)
        if circle is not None:
            counts = (circle.member_count, 0, circle.post_count, circle.newest_post_at)
        else:
            counts = _person_counts(actor, people.get(actor.id), viewer_actor, followers, following, joined, stats)
        entities.append(_account(actor, instance, counts, circle=circle, person=people.get(actor.id)))
    return entities


def _account(actor: Actor, instance: Instance, counts: tuple, *, circle: Circle | None,
             person: Account | None) -> dict:
    followers, following, statuses, last_status = counts
    avatar = actor.avatar_url or f"{instance.base_url}{MISSING_AVATAR}"
    header = f"{instance.base_url}{MISSING_HEADER}"
    entity = {
        "id": str(actor.id),
        "username": actor.username,
        "acct": acct(actor, instance),
        "display_name": actor.display_name or (circle.name if circle else ""),
        "locked": _locked(actor, circle),
        "bot": actor.kind in (ActorKind.APPLICATION, ActorKind.SERVICE),
        "discoverable": _discoverable(actor, circle, person),
        "indexable": _indexable(actor, circle, person),
        "group": actor.kind is ActorKind.GROUP,
        "created_at": _midnight(actor.created_at),
        "note": actor.summary,
        "url": actor.profile_url or actor.uri,
        "uri": actor.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": followers,
        "following_count": following,
        "statuses_count": statuses,
        "last_status_at": _day(last_status),
        # A members-only circle's members are for its members only.
        "hide_collections": bool(circle is not None and circle.visibility is Visibility.MEMBERS),
        "emojis": [],
        "fields": [],
    }
    if actor.local:  # attribute :noindex / has_many :roles, if: :local?
        entity["noindex"] = not entity["indexable"]
        entity["roles"] = [ADMIN_ROLE] if person is not None and person.is_admin else []
    return entity


# The highlighted role Mastodon shows on an admin's profile (REST::AccountSerializer::RoleSerializer).
ADMIN_ROLE = {"id": "3", "name": "Admin", "color": ""}


def _locked(actor: Actor, circle: Circle | None) -> bool:
    if circle is not None and actor.local:
        return circle.join_mode is not JoinMode.OPEN
    return actor.manually_approves_followers


def _discoverable(actor: Actor, circle: Circle | None, person: Account | None) -> bool | None:
    if person is not None:
        return person.discoverable
    if circle is not None and actor.local:
        return True  # every circle here is in the directory
    return None  # not known for accounts elsewhere (Mastodon's null)


def _indexable(actor: Actor, circle: Circle | None, person: Account | None) -> bool:
    if person is not None:
        return person.indexable
    if circle is not None and actor.local:
        return circle.visibility is Visibility.PUBLIC
    return False


# --- relationships ------------------------------------------------------------------------


async def relationships(viewer: Actor, targets: list[Actor]) -> list[dict]:
    """Relationship entities between the viewer and each target, in their
    order, in three queries (app/serializers/rest/relationship_serializer.rb).
    For a circle, `following` is being an active member, `requested` a
    request waiting for its facilitators, and `blocked_by` a ban."""
    if not targets:
        return []
    ids = [target.id for target in targets]
    follows = await Follow.filter(
        Q(follower_id=viewer.id, target_id__in=ids) | Q(follower_id__in=ids, target_id=viewer.id)
    ).values_list("follower_id", "target_id", "state")
    blocks = await PersonBlock.filter(
        Q(owner_id=viewer.id, target_id__in=ids) | Q(owner_id__in=ids, target_id=viewer.id)
    ).values_list("owner_id", "target_id", "kind")
    group_ids = [target.id for target in targets if target.kind is ActorKind.GROUP]
    members = dict(await Membership.filter(actor_id=viewer.id, circle__actor_id__in=group_ids).values_list(
        "circle__actor_id", "state")) if group_ids else {}
    outgoing = {target: FollowState(state) for follower, target, state in follows if follower == viewer.id}
    incoming = {follower: FollowState(state) for follower, target, state in follows if target == viewer.id}
    mine = {target: BlockKind(kind) for owner, target, kind in blocks if owner == viewer.id}
    theirs = {owner: BlockKind(kind) for owner, target, kind in blocks if target == viewer.id}
    return [
        relationship(target.id, following=_following(target, outgoing, members),
                     followed_by=incoming.get(target.id) is FollowState.ACCEPTED,
                     requested=_requested(target, outgoing, members),
                     requested_by=incoming.get(target.id) is FollowState.PENDING,
                     blocking=mine.get(target.id) is BlockKind.BLOCK, muting=mine.get(target.id) is BlockKind.MUTE,
                     blocked_by=theirs.get(target.id) is BlockKind.BLOCK
                     or _state(members.get(target.id)) is MembershipState.BANNED)
        for target in targets
    ]


def _state(raw) -> MembershipState | None:
    return MembershipState(raw) if raw is not None else None


def _following(target: Actor, outgoing: dict, members: dict) -> bool:
    if target.kind is ActorKind.GROUP and target.local:
        return _state(members.get(target.id)) is MembershipState.ACTIVE
    return outgoing.get(target.id) is FollowState.ACCEPTED


def _requested(target: Actor, outgoing: dict, members: dict) -> bool:
    if target.kind is ActorKind.GROUP and target.local:
        return _state(members.get(target.id)) is MembershipState.PENDING
    return outgoing.get(target.id) is FollowState.PENDING


def relationship(target_id: int, *, following: bool = False, followed_by: bool = False, requested: bool = False,
                 requested_by: bool = False, blocking: bool = False, muting: bool = False,
                 blocked_by: bool = False) -> dict:
    """One Relationship entity (https://docs.joinmastodon.org/entities/Relationship/).
    Reblogs are shown for whom one follows; a mute hides notifications too, as
    Mastodon's default mute does; there are no notes, endorsements nor domain
    blocks by a person here."""
    return {
        "id": str(target_id),
        "following": following,
        "showing_reblogs": following,
        "notifying": False,
        "languages": None,
        "followed_by": followed_by,
        "blocking": blocking,
        "blocked_by": blocked_by,
        "muting": muting,
        "muting_notifications": muting,
        "requested": requested,
        "requested_by": requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }
