"""Actors: local and remote people, groups (circles) and the instance actor,
their keys, and who follows whom."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field
from models.text import isolated


class ActorKind(StrEnum):
    PERSON = "Person"
    GROUP = "Group"
    APPLICATION = "Application"
    SERVICE = "Service"
    ORGANIZATION = "Organization"


class Actor(Entity):
    uri = url_field(unique=True)
    kind = fields.CharEnumField(ActorKind, max_length=16)
    local = fields.BooleanField(default=False)
    username = fields.CharField(max_length=255)
    domain = fields.CharField(max_length=255)
    display_name = fields.CharField(max_length=255, default="")
    summary = fields.TextField(default="")  # sanitised HTML
    profile_url = url_field(null=True)
    inbox_url = url_field(null=True)
    shared_inbox_url = url_field(null=True)
    outbox_url = url_field(null=True)
    followers_url = url_field(null=True)
    following_url = url_field(null=True)
    manually_approves_followers = fields.BooleanField(default=False)
    # The actor's picture: a remote actor's `icon` (an http(s) URL the viewer's
    # browser loads; never fetched by this server), or a local person's upload
    # (its address here). Templates show it with the `avatar` macro
    # (web/templates/_avatar.html).
    avatar_url = url_field(null=True)
    # A local person's uploaded picture: its file in the media directory.
    avatar_file = fields.CharField(max_length=64, null=True, unique=True)
    fetched_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(null=True)
    # A local person who deleted their account (or whose account an admin
    # deleted): the row stays as a tombstone, so their handle is not taken
    # again and their Delete can still be signed; their content is gone.
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "actors"
        unique_together = (("username", "domain"),)

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def name(self) -> str:
        """How to show the actor among other text (isolated when right-to-left)."""
        return isolated(self.display_name or self.username)


class KeyAlgorithm(StrEnum):
    RSA = "rsa"
    ED25519 = "ed25519"


class ActorKey(Entity):
    # A public key of an actor, with the private half only for local actors.

    actor = fields.ForeignKeyField("circles.Actor", related_name="keys", on_delete=fields.CASCADE)
    key_id = url_field(unique=True)
    algorithm = fields.CharEnumField(KeyAlgorithm, max_length=16)
    public_pem = fields.TextField()
    private_pem = fields.TextField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "actor_keys"


class FollowState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Follow(Entity):
    follower = fields.ForeignKeyField(
        "circles.Actor", related_name="following_rows", on_delete=fields.CASCADE
    )
    target = fields.ForeignKeyField(
        "circles.Actor", related_name="follower_rows", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(FollowState, max_length=16, default=FollowState.PENDING)
    uri = url_field(null=True)  # the Follow activity's id

    class Meta:
        table = "follows"
        unique_together = (("follower", "target"),)
        indexes = (("target_id", "state"),)  # an actor's followers
