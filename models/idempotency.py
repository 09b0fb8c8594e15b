"""Idempotency keys of the client API: an app that sends the same status
twice with the same `Idempotency-Key` header gets the first one back
(Mastodon keeps these an hour: app/services/post_status_service.rb)."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class IdempotencyKey(Entity):
    # The key's SHA-256 (any length of key fits), per account; `created_at` dates it.
    account = fields.ForeignKeyField("circles.Account", related_name="idempotency_keys", on_delete=fields.CASCADE)
    key_digest = fields.CharField(max_length=64)
    post = fields.ForeignKeyField("circles.Post", related_name="idempotency_keys", on_delete=fields.CASCADE)

    class Meta:
        table = "idempotency_keys"
        unique_together = (("account", "key_digest"),)
