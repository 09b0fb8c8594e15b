"""What the circle keeps about its questions beyond the posts themselves."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class SafeQuestionReveal(Entity):
    # A steward looked up who asked a safe question. The circle sees who
    # looked and when (never whom they found): stewards answer for each look.
    circle = fields.ForeignKeyField("circles.Circle", related_name="reveals", on_delete=fields.CASCADE)
    post = fields.ForeignKeyField("circles.Post", related_name="reveals", on_delete=fields.CASCADE)
    viewer = fields.ForeignKeyField("circles.Actor", related_name="reveals", on_delete=fields.CASCADE)
    reason = fields.CharField(max_length=300, default="")

    class Meta:
        table = "safe_question_reveals"
        indexes = (("circle_id", "created_at"),)
