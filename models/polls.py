"""Polls on posts from other servers (Mastodon polls, a circle's proposals
and RSVP polls elsewhere), so members here can answer them. Polls of our own
posts live with what they decide: models/governance.py, models/meetings.py."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class RemotePoll(Entity):
    # The options of a remote `Question`, as its server last described them.
    post = fields.OneToOneField("circles.Post", related_name="remote_poll", on_delete=fields.CASCADE)
    options = fields.JSONField()  # option names, in order
    closes_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "remote_polls"


class PollAnswer(Entity):
    # A local member's answer to a remote poll, sent to the poll's author as
    # Mastodon sends votes; one per person, as Mastodon allows.
    poll = fields.ForeignKeyField("circles.RemotePoll", related_name="answers", on_delete=fields.CASCADE)
    actor = fields.ForeignKeyField("circles.Actor", related_name="poll_answers", on_delete=fields.CASCADE)
    option = fields.CharField(max_length=200)

    class Meta:
        table = "poll_answers"
        unique_together = (("poll", "actor"),)
