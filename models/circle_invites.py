"""Invitations into one circle: links a facilitator makes (with an expiry
and a number of uses), which let the people holding them join even an
invite-only circle, and personal invitations of one person by handle. Not
the instance's sign-up invites (models/accounts.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.expressions import F, Q

from models import clock
from models.base import Entity


class CircleInvite(Entity):
    circle = fields.ForeignKeyField("circles.Circle", related_name="invites", on_delete=fields.CASCADE)
    created_by = fields.ForeignKeyField(
        "circles.Actor", related_name="circle_invites_made", null=True, on_delete=fields.SET_NULL
    )
    # Only the SHA-256 of the link's secret: a database leak opens no circle.
    token_hash = fields.CharField(max_length=64, unique=True)
    max_uses = fields.IntField(null=True)  # None: any number of people
    uses = fields.IntField(default=0)
    expires_at = fields.DatetimeField(null=True)  # None: until revoked
    revoked_at = fields.DatetimeField(null=True)
    # A personal invitation (one use): only this person may use it, and for
    # someone elsewhere their Follow of the circle is how they take it up.
    invitee = fields.ForeignKeyField(
        "circles.Actor", related_name="circle_invites_received", null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "circle_invites"


def usable(rows):
    """`rows` (a CircleInvite query) narrowed to the invitations that still work now."""
    now = clock.now()
    return rows.filter(
        Q(revoked_at=None), Q(expires_at=None) | Q(expires_at__gt=now), Q(max_uses=None) | Q(uses__lt=F("max_uses"))
    )
