"""What every table shares: a sortable id from models/clock.py and timestamps.

Model classes carry comments, not docstrings: tortoise turns a model's
docstring into a table comment, and its SQLite migrations split on ';'.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models import clock

URL_LENGTH = 2048


class Entity(Model):
    id = fields.BigIntField(primary_key=True, generated=False, default=clock.new_id)
    created_at = fields.DatetimeField(default=clock.now)

    class Meta:
        abstract = True


def url_field(**kwargs) -> fields.CharField:
    return fields.CharField(max_length=URL_LENGTH, **kwargs)
