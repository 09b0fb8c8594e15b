"""Rate limits: requests counted per limit, subject and fixed time window."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class RateWindow(Entity):
    # How often one subject (an account, a client address, a remote host) used
    # one limit in one fixed window. In the database, so that every web process
    # and machine counts together; windows past are deleted as new ones begin.
    key = fields.CharField(max_length=300)
    started_at = fields.DatetimeField(db_index=True)
    hits = fields.IntField(default=0)

    class Meta:
        table = "rate_windows"
        unique_together = (("key", "started_at"),)
