"""Reflections: what a member learned after a meeting, private unless shared."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity
from models.translation import N_


class ValueCycle(StrEnum):
    # The kinds of value a learning activity creates, after Wenger-Trayner's
    # value-creation framework (Wenger, Trayner & de Laat, 2011).
    IMMEDIATE = "immediate"
    POTENTIAL = "potential"
    APPLIED = "applied"
    REALISED = "realised"
    TRANSFORMATIVE = "transformative"
    REFRAMING = "reframing"


# Pages show the part before the colon as the kind's short name: translations keep the colon.
VALUE_CYCLE_EXPLANATIONS: dict[ValueCycle, str] = {
    ValueCycle.IMMEDIATE: N_("Immediate value: the activity itself was useful (fun, inspiring, I met people)"),
    ValueCycle.POTENTIAL: N_("Potential value: I gained something I can use later (a skill, an idea, a contact)"),
    ValueCycle.APPLIED: N_("Applied value: I used it in practice"),
    ValueCycle.REALISED: N_("Realised value: it made a difference to results I care about"),
    ValueCycle.TRANSFORMATIVE: N_("Transformative value: it changed how I see myself or my work"),
    ValueCycle.REFRAMING: N_("Reframing value: it changed how we define success"),
}


class Reflection(Entity):
    # Seen by its author only, until shared: sharing makes a post of kind
    # reflection in the circle (shared_post), which threads and federates.
    author = fields.ForeignKeyField("circles.Actor", related_name="reflections", on_delete=fields.CASCADE)
    circle = fields.ForeignKeyField("circles.Circle", related_name="reflections", on_delete=fields.CASCADE)
    meeting = fields.ForeignKeyField(
        "circles.Post", related_name="meeting_reflections", null=True, on_delete=fields.SET_NULL
    )
    source = fields.TextField()  # Markdown as typed
    content = fields.TextField()  # sanitised HTML: the only form ever shown
    value_cycle = fields.CharEnumField(ValueCycle, max_length=16, null=True)
    shared_post = fields.ForeignKeyField(
        "circles.Post", related_name="shared_reflections", null=True, on_delete=fields.SET_NULL
    )
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reflections"
        indexes = (("circle_id", "shared_post_id"), ("author_id", "circle_id"))
