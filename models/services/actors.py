"""Local actors and their key pairs."""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from models.actors import Actor, ActorKey, ActorKind, KeyAlgorithm
from models.errors import Conflict
from models.instance import Instance


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
        raise Conflict(f"The handle “{username}” is already taken.", field="handle")
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
    fragments = {KeyAlgorithm.RSA: "main-key", KeyAlgorithm.ED25519: "ed25519-key"}
    for algorithm, (private_pem, public_pem) in keys.items():
        await ActorKey.create(
            actor=actor,
            key_id=f"{uri}#{fragments[algorithm]}",
            algorithm=algorithm,
            public_pem=public_pem,
            private_pem=private_pem,
        )
    return actor
