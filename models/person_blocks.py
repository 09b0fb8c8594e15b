"""Blocks and mutes between people (issue 11): who hides whom.

A mute hides the muted person's content from the muter; a block also refuses
the blocked person's interactions with the blocker. Circles are shared spaces:
neither removes anyone from a circle."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class BlockKind(StrEnum):
    MUTE = "mute"
    BLOCK = "block"


class PersonBlock(Entity):
    # `owner` blocks or mutes `target`; either may be local or remote (a remote
    # owner is a Block received from another server).
    owner = fields.ForeignKeyField("circles.Actor", related_name="block_rows", on_delete=fields.CASCADE)
    target = fields.ForeignKeyField("circles.Actor", related_name="blocked_by_rows", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(BlockKind, max_length=8)
    uri = fields.CharField(max_length=2048, null=True)  # the Block activity's id, when federated

    class Meta:
        table = "person_blocks"
        unique_together = (("owner", "target"),)
