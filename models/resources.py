"""The circle's resource library: links people found useful, each carried by a
Post of kind RESOURCE (its title and description), so it threads, can be
discussed and federates as a post does."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field
from models.translation import N_


class Licence(StrEnum):
    CC0 = "cc0"
    CC_BY = "cc-by"
    CC_BY_SA = "cc-by-sa"
    CC_BY_NC = "cc-by-nc"
    ALL_RIGHTS_RESERVED = "all-rights-reserved"
    UNKNOWN = "unknown"
    OTHER = "other"


LICENCE_LABELS = {
    Licence.CC0: "CC0",
    Licence.CC_BY: "CC BY",
    Licence.CC_BY_SA: "CC BY-SA",
    Licence.CC_BY_NC: "CC BY-NC",
    Licence.ALL_RIGHTS_RESERVED: N_("All rights reserved"),
    Licence.UNKNOWN: N_("Unknown"),
    Licence.OTHER: N_("Other"),
}


class Level(StrEnum):
    ANY = "any"
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Resource(Entity):
    post = fields.OneToOneField("circles.Post", related_name="resource", on_delete=fields.CASCADE)
    link = url_field(db_index=True)  # http(s) only; "where used" looks resources up by it
    licence = fields.CharEnumField(Licence, max_length=32, default=Licence.UNKNOWN)
    level = fields.CharEnumField(Level, max_length=16, default=Level.ANY)
    # A reshare points at its original: the row here, and the original post's
    # uri (which outlives the row, and names originals from elsewhere).
    reshared_from = fields.ForeignKeyField(
        "circles.Resource", related_name="reshares", null=True, on_delete=fields.SET_NULL
    )
    reshared_from_uri = url_field(null=True)

    class Meta:
        table = "resources"


class ResourceTag(Entity):
    # One normalised tag (lower-case letters, digits, hyphens) of a resource.
    resource = fields.ForeignKeyField("circles.Resource", related_name="tags", on_delete=fields.CASCADE)
    tag = fields.CharField(max_length=40, db_index=True)

    class Meta:
        table = "resource_tags"
        unique_together = (("resource", "tag"),)
