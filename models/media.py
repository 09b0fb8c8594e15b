"""Images on posts: uploaded here (a file in the media directory, metadata
stripped, see models/services/media.py) or attached to a remote post (only
its address, which we never fetch: the reader's browser loads it)."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity, url_field


class Media(Entity):
    # Who attached it, and to which post (its rows and files go with the post).
    owner = fields.ForeignKeyField("circles.Actor", related_name="media", on_delete=fields.CASCADE)
    post = fields.ForeignKeyField("circles.Post", related_name="media", on_delete=fields.CASCADE)
    # A local upload's random file name in the media directory; null for a remote image.
    file_name = fields.CharField(max_length=64, null=True, unique=True)
    url = url_field()  # where it is seen: /media/<file_name> here, or the remote address
    media_type = fields.CharField(max_length=100)  # image/jpeg, image/png, image/webp
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    alt = fields.TextField(default="")  # what the image shows, for people who cannot see it
    position = fields.SmallIntField(default=0)  # order within the post

    class Meta:
        table = "media"

    @property
    def local(self) -> bool:
        return self.file_name is not None
