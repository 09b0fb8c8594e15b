"""Local actors and their key pairs."""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor, ActorKey, ActorKind, Follow, FollowState, KeyAlgorithm
from models.errors import Conflict, Gone, NotFound
from models.federation import OutboxEvent
from models.instance import Instance
from models.translation import N_

KEY_FRAGMENTS = {KeyAlgorithm.RSA: "main-key", KeyAlgorithm.ED25519: "ed25519-key"}

ACCOUNT_DELETED = N_("@%(username)s deleted their account.")
NO_LOCAL_PERSON = N_("No one here has the name “%(username)s”.")
NO_LOCAL_CIRCLE = N_("No circle here has the name “%(username)s”.")


def _pem_pair(private_key) -> tuple[str, str]:
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


def _generate_keys() -> dict[KeyAlgorithm, tuple[str, str]]:
    # RSA-2048 is what Mastodon reads; Ed25519 is published for FEP-521a / RFC 9421.
    return {
        KeyAlgorithm.RSA: _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        KeyAlgorithm.ED25519: _pem_pair(ed25519.Ed25519PrivateKey.generate()),
    }


async def generate_keys() -> dict[KeyAlgorithm, tuple[str, str]]:
    """New key pairs, made off the event loop (RSA generation takes tens of ms)."""
    return await asyncio.to_thread(_generate_keys)


async def handle_taken(instance: Instance, username: str) -> bool:
    return await Actor.filter(username=username, domain=instance.domain).exists()


async def create_local_actor(
    instance: Instance,
    kind: ActorKind,
    username: str,
    uri: str,
    *,
    display_name: str = "",
    keys: dict[KeyAlgorithm, tuple[str, str]],
) -> Actor:
    """Create a local actor with its keys. Call inside the caller's transaction,
    with `keys` from generate_keys() made before it (no slow work while a
    transaction holds locks)."""
    if await handle_taken(instance, username):
        raise Conflict("The handle “%(handle)s” is already taken.", field="handle", handle=username)
    actor = await Actor.create(
        uri=uri,
        kind=kind,
        local=True,
        username=username,
        domain=instance.domain,
        display_name=display_name,
        profile_url=uri,
        inbox_url=f"{uri}/inbox",
        shared_inbox_url=f"{instance.base_url}/inbox",
        outbox_url=f"{uri}/outbox",
        followers_url=f"{uri}/followers",
        following_url=f"{uri}/following",
    )
    for algorithm, (private_pem, public_pem) in keys.items():
        await ActorKey.create(
            actor=actor,
            key_id=f"{uri}#{KEY_FRAGMENTS[algorithm]}",
            algorithm=algorithm,
            public_pem=public_pem,
            private_pem=private_pem,
        )
    return actor


async def keys_of(actor: Actor) -> list[ActorKey]:
    return await ActorKey.filter(actor=actor, revoked_at=None).order_by("id")


async def signing_key(actor: Actor, algorithm: KeyAlgorithm = KeyAlgorithm.RSA) -> ActorKey:
    """The local actor's current private key of this algorithm."""
    key = (await signing_keys([actor.id], algorithm)).get(actor.id)
    if key is None:
        raise NotFound("%(uri)s has no %(algorithm)s signing key.", uri=actor.uri, algorithm=algorithm.value)
    return key


async def signing_keys(actor_ids: list[int], algorithm: KeyAlgorithm = KeyAlgorithm.RSA) -> dict[int, ActorKey]:
    """Each of these local actors' current private key of this algorithm, in
    one query (those without one are left out)."""
    keys: dict[int, ActorKey] = {}
    for key in await ActorKey.filter(
        actor_id__in=actor_ids, algorithm=algorithm, revoked_at=None, private_pem__isnull=False
    ).order_by("id"):
        keys[key.actor_id] = key  # the newest last
    return keys


async def local_actor(kind: ActorKind, username: str) -> Actor:
    actor = await Actor.get_or_none(kind=kind, username=username, local=True)
    if actor is None:
        message = NO_LOCAL_CIRCLE if kind is ActorKind.GROUP else NO_LOCAL_PERSON
        raise NotFound(message, username=username[:40])
    if actor.deleted_at is not None:
        raise Gone(ACCOUNT_DELETED, username=username[:40])
    return actor


async def ensure_instance_actor(instance: Instance) -> Actor:
    """The instance's own Application actor (signs fetches), made on first use.
    Its username is the domain, as Mastodon's is, so it never clashes with a handle."""
    actor = await Actor.get_or_none(kind=ActorKind.APPLICATION, local=True, domain=instance.domain)
    if actor is not None:
        return actor
    keys = await generate_keys()
    try:
        async with in_transaction():
            return await create_local_actor(
                instance, ActorKind.APPLICATION, instance.domain, instance.instance_actor_uri(),
                display_name=instance.domain, keys=keys,
            )
    except (Conflict, IntegrityError):  # another process made it first
        return await Actor.get(kind=ActorKind.APPLICATION, local=True, domain=instance.domain)


async def local_by_username(username: str, domain: str) -> Actor | None:
    """A local person, circle or the instance actor, by the name in its handle."""
    return await Actor.get_or_none(username=username, domain=domain, local=True)


async def local_by_uri(uri: str) -> Actor | None:
    return await Actor.get_or_none(uri=uri, local=True)


async def local_group_uris(uris: list[str]) -> set[str]:
    """Which of these ids are our circles (one query)."""
    rows = await Actor.filter(uri__in=uris, local=True, kind=ActorKind.GROUP).values_list("uri", flat=True)
    return set(rows)


async def first_local_actor(uris: list[str]) -> Actor | None:
    """The first of these ids that is one of our actors (one query)."""
    found = {a.uri: a for a in await Actor.filter(uri__in=uris, local=True)}
    return next((found[uri] for uri in uris if uri in found), None)


async def follower_count(actor: Actor) -> int:
    return await Follow.filter(target=actor, state=FollowState.ACCEPTED).count()


async def following_count(actor: Actor) -> int:
    return await Follow.filter(follower=actor, state=FollowState.ACCEPTED).count()



async def rotate_keys(actor: Actor) -> list[ActorKey]:
    """Replace a local actor's keys (after a leak, or routinely). Old keys are
    revoked at once; an `actor.updated` event tells followers' servers."""
    if not actor.local:
        raise Conflict("Only a local actor's keys can be rotated here.")
    keys = await generate_keys()
    stamp = clock.new_id()
    async with in_transaction():
        await ActorKey.filter(actor=actor, revoked_at=None).update(revoked_at=clock.now())
        created = [
            await ActorKey.create(
                actor=actor, key_id=f"{actor.uri}#{KEY_FRAGMENTS[algorithm]}-{stamp}", algorithm=algorithm,
                public_pem=public_pem, private_pem=private_pem,
            )
            for algorithm, (private_pem, public_pem) in keys.items()
        ]
        await OutboxEvent.create(kind="actor.updated", subject_id=actor.id)
    return created
