"""Sister circles: a local circle follows another circle (here or elsewhere)
and shows the kinds of posts its facilitators chose from it."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity
from models.posts import PostKind

DEFAULT_SISTER_KINDS = (PostKind.RESOURCE, PostKind.QUESTION, PostKind.MEETING)
# The kinds a facilitator may pick: top-level posts worth learning from.
SISTER_KINDS = (PostKind.RESOURCE, PostKind.QUESTION, PostKind.MEETING, PostKind.DISCUSSION)


def default_kinds() -> list[str]:
    return [kind.value for kind in DEFAULT_SISTER_KINDS]


class SisterLink(Entity):
    # The local circle that follows; the follow itself is a Follow row from
    # the circle's Group actor to `sister`, so Accepts and Announces work as usual.
    circle = fields.ForeignKeyField("circles.Circle", related_name="sister_links", on_delete=fields.CASCADE)
    sister = fields.ForeignKeyField("circles.Actor", related_name="sister_of", on_delete=fields.CASCADE)
    kinds = fields.JSONField(default=default_kinds)  # PostKind values shown in the circle's sister feed

    class Meta:
        table = "sister_links"
        unique_together = (("circle", "sister"),)
