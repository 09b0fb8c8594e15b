"""Peer tutoring in a circle: what members can help with or want help with,
pairings of a helper and a learner, and their private message thread."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field


class SkillDirection(StrEnum):
    OFFERS = "offers"  # "I can help with"
    WANTS = "wants"  # "I would like help with"


class Skill(Entity):
    # One skill a member lists in a circle; the name is normalised lowercase
    # so that "Python" offered matches "python" wanted.
    circle = fields.ForeignKeyField("circles.Circle", related_name="skills", on_delete=fields.CASCADE)
    actor = fields.ForeignKeyField("circles.Actor", related_name="skills", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=40)
    direction = fields.CharEnumField(SkillDirection, max_length=8)

    class Meta:
        table = "tutoring_skills"
        unique_together = (("circle", "actor", "name", "direction"),)
        indexes = (("circle_id", "name", "direction"),)


class Pairing(Entity):
    # A tutoring relationship between two members of a circle, open until
    # either of them closes it. One of them may have their account on another
    # server: their messages then travel as direct Notes (models/services/tutoring.py).
    circle = fields.ForeignKeyField("circles.Circle", related_name="pairings", on_delete=fields.CASCADE)
    helper = fields.ForeignKeyField("circles.Actor", related_name="pairings_helping", on_delete=fields.CASCADE)
    learner = fields.ForeignKeyField("circles.Actor", related_name="pairings_learning", on_delete=fields.CASCADE)
    skill = fields.CharField(max_length=40)
    closed_at = fields.DatetimeField(null=True)
    # "circle:lower actor id:higher actor id:skill" while open, null once
    # closed: the unique index keeps two simultaneous requests from opening
    # the same pairing twice (NULLs never clash).
    open_key = fields.CharField(max_length=100, null=True, unique=True)
    # When the person who was asked agreed: at once between two local people;
    # with someone on another server, when their first reply arrives.
    accepted_at = fields.DatetimeField(null=True)
    # Opened by the person on the other server (their first Note made it here):
    # then it is ours who accepts, by replying.
    opened_remotely = fields.BooleanField(default=False)

    class Meta:
        table = "tutoring_pairings"
        indexes = (("circle_id", "closed_at"), ("helper_id", "learner_id"))


class TutoringMessage(Entity):
    # A message in a pairing's thread: seen only by the pairing's two people.
    pairing = fields.ForeignKeyField("circles.Pairing", related_name="messages", on_delete=fields.CASCADE)
    author = fields.ForeignKeyField("circles.Actor", related_name="tutoring_messages", on_delete=fields.CASCADE)
    source = fields.TextField()  # Markdown as typed
    content = fields.TextField()  # sanitised HTML: the only form ever shown
    # The Note's id when the message went to or came from another server: a
    # reply names it in inReplyTo, which finds the thread.
    uri = url_field(null=True, unique=True)

    class Meta:
        table = "tutoring_messages"
        indexes = (("pairing_id", "id"),)
