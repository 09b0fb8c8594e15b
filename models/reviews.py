"""Peer review: structured feedback on work a member shares for review."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class Feedback(Entity):
    # The structure of one reply to a review request (a post of kind
    # "review"): the reply's text is the three parts, for servers that show
    # only text; here they are also kept apart.
    reply = fields.OneToOneField("circles.Post", related_name="feedback", on_delete=fields.CASCADE)
    works = fields.TextField(default="")  # what works (Markdown)
    questions = fields.TextField(default="")  # questions the work raises
    suggestions = fields.TextField(default="")  # what could make it better
    helpful_at = fields.DatetimeField(null=True)  # when the work's author found it helpful

    class Meta:
        table = "feedback"
