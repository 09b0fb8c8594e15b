"""People's profiles: what a profile page shows (local or remote person),
the posts of people one follows, and a local person editing their profile."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models.accounts import Account
from models.actors import Actor, ActorKind, Follow, FollowState
from models.circles import Membership, MembershipState
from models.errors import InvalidInput, NotFound
from models.federation import OutboxEvent
from models.instance import Instance
from models.posts import Post
from models.services import media as media_service
from models.services import person_blocks, validation, visibility
from models.text import render_markdown

DISPLAY_NAME_MAX = 100
BIO_MAX = 2_000
PAGE_SIZE = 20


@dataclass(frozen=True)
class Counts:
    followers: int
    following: int


async def counts(actor: Actor) -> Counts:
    """Accepted follows of and by the actor, as known here."""
    return Counts(
        followers=await Follow.filter(target=actor, state=FollowState.ACCEPTED).count(),
        following=await Follow.filter(follower=actor, state=FollowState.ACCEPTED).count(),
    )


async def remote_person(username: str, domain: str) -> Actor:
    """A person (or other non-circle actor) from another server known here, by handle."""
    actor = await Actor.get_or_none(username=username[:255], domain=domain[:255].lower(), local=False)
    if actor is None:
        raise NotFound(f"Nobody called @{username[:60]}@{domain[:60]} is known here yet: look them up first.")
    return actor


async def posts_of(
    author: Actor, *, seen_by: Actor | None, before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Post]:
    """An author's posts and replies that are here and that `seen_by` may read
    (members-only circles' only for their members), newest first, with their
    circles; pass the last id seen as before_id."""
    posts = Post.filter(visibility.readable_circles(seen_by), author=author, deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        posts = posts.filter(id__lt=before_id)
    return await posts.select_related("author", "circle__actor").order_by("-id").limit(limit)


def _followed(actor: Actor):
    """The follows of people by `actor`, but of those they muted (blocking ends a follow)."""
    return Follow.filter(
        person_blocks.not_hidden_from(actor, "target_id"), follower=actor, state=FollowState.ACCEPTED,
        target__kind=ActorKind.PERSON,
    )


async def followed_ids(actor: Actor) -> list[int]:
    return await _followed(actor).values_list("target_id", flat=True)


def home_filter(actor: Actor) -> Q:
    """The home page's two feeds as one filter of top-level posts, for lists
    paged by id (apps' home timeline and its stream): the person's active
    circles (posts.recent_posts_for) or the people they follow, in circles
    they may read (posts_from_followed).

    The circles are named through the joined circle row (`circle__id`, which
    readable_circles joins anyway), not the post's own circle_id: were both
    sides of the OR answerable from a posts index, SQLite would gather every
    post of the person's circles and of those they follow by those indexes
    and sort them all (a "MULTI-INDEX OR"), where walking the posts from the
    newest stops after a page (bench/api.py)."""
    circles = Membership.filter(actor_id=actor.id, state=MembershipState.ACTIVE).values("circle_id")
    from_followed = Q(author_id__in=Subquery(_followed(actor).values("target_id"))) & visibility.readable_circles(actor)
    return (Q(circle__id__in=Subquery(circles)) | from_followed) & Q(root_id=None)


async def posts_from_followed(actor: Actor, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[Post]:
    """Newest top-level posts by the people `actor` follows (two queries)."""
    authors = await followed_ids(actor)
    if not authors:
        return []
    posts = Post.filter(visibility.readable_circles(actor), author_id__in=authors, root_id=None, deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        posts = posts.filter(id__lt=before_id)
    return await posts.select_related("author", "circle__actor").order_by("-id").limit(limit)


async def follow_of(follower: Actor, target: Actor) -> Follow | None:
    return await Follow.get_or_none(follower=follower, target=target)


async def update_profile(
    account: Account, *, display_name: str, bio: str, language: str, languages: Collection[str]
) -> Account:
    """A local person edits their profile. The bio is Markdown (its sanitised
    HTML becomes the actor's summary); `language` is one of `languages` or
    empty (follow the browser). A changed name or bio tells their followers'
    servers (Update of the Person), in the same transaction."""
    display_name = validation.single_line(display_name, "display_name", label="Display name", max_length=DISPLAY_NAME_MAX)
    bio = validation.text(bio, "bio", label="About you", max_length=BIO_MAX)
    language = (language or "").strip()
    if language and language not in languages:
        raise InvalidInput("Choose one of the languages in the list.", field="language")
    actor = account.actor
    summary = render_markdown(bio) if bio else ""
    federated = (display_name, summary) != (actor.display_name, actor.summary)
    async with in_transaction():
        account.bio, account.language = bio, language
        await account.save(update_fields=["bio", "language"])
        if federated:
            actor.display_name, actor.summary = display_name, summary
            await actor.save(update_fields=["display_name", "summary"])
            await OutboxEvent.create(kind="actor.updated", subject_id=actor.id)
    return account


async def update_privacy(
    account: Account, *, discoverable: bool, indexable: bool, shows_circles: bool, shows_posts: bool
) -> Account:
    """A local person chooses who may find and index them, and what their
    profile page shows. `discoverable` and `indexable` travel in their actor
    document, so servers that follow them hear of a change (Update of the Person)."""
    federated = (discoverable, indexable) != (account.discoverable, account.indexable)
    async with in_transaction():
        account.discoverable, account.indexable = discoverable, indexable
        account.profile_shows_circles, account.profile_shows_posts = shows_circles, shows_posts
        await account.save(update_fields=[
            "discoverable", "indexable", "profile_shows_circles", "profile_shows_posts",
        ])
        if federated:
            await OutboxEvent.create(kind="actor.updated", subject_id=account.actor_id)
    return account


async def set_avatar(
    account: Account, instance: Instance, image: media_service.CleanImage, store: media_service.MediaStore
) -> Actor:
    """A local person's new profile picture (cleaned by media.prepare_avatar):
    stored, shown here, and sent to their followers' servers as the Person's
    `icon` (Update of the Person). The picture it replaces is removed."""
    name = await store.write(image)
    actor = account.actor
    old = actor.avatar_file
    try:
        async with in_transaction():
            actor.avatar_file, actor.avatar_url = name, instance.media_url(name)
            await actor.save(update_fields=["avatar_file", "avatar_url"])
            await OutboxEvent.create(kind="actor.updated", subject_id=actor.id)
    except BaseException:
        store.remove([name])  # nothing half-written: no file without its row
        raise
    if old:
        store.remove([old])
    return actor


async def remove_avatar(account: Account, store: media_service.MediaStore) -> bool:
    """A local person takes their profile picture down; False if they had none."""
    actor = account.actor
    old = actor.avatar_file
    if old is None:
        return False
    async with in_transaction():
        actor.avatar_file, actor.avatar_url = None, None
        await actor.save(update_fields=["avatar_file", "avatar_url"])
        await OutboxEvent.create(kind="actor.updated", subject_id=actor.id)
    store.remove([old])
    return True
