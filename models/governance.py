"""Self-governance in circles: proposals, votes, and each circle's defaults."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field


class ProposalKind(StrEnum):
    RULES = "rules"  # replace the circle's rules with the proposed text
    PURPOSE = "purpose"  # replace the circle's purpose
    JOIN_MODE = "join_mode"  # open / approval / invite
    VISIBILITY = "visibility"  # public / members-only
    ADD_FACILITATOR = "add_facilitator"  # a member becomes a facilitator
    REMOVE_FACILITATOR = "remove_facilitator"  # a facilitator becomes a member
    ROTATE_FACILITATION = "rotate_facilitation"  # the named member replaces every facilitator
    ADD_MODERATOR = "add_moderator"  # a member becomes a moderator
    REMOVE_MODERATOR = "remove_moderator"  # a moderator becomes a member
    FREE_TEXT = "free_text"  # a decision with nothing to apply


# Kinds whose value is a member of the circle rather than text.
ACTOR_KINDS = frozenset(
    {
        ProposalKind.ADD_FACILITATOR, ProposalKind.REMOVE_FACILITATOR, ProposalKind.ROTATE_FACILITATION,
        ProposalKind.ADD_MODERATOR, ProposalKind.REMOVE_MODERATOR,
    }
)


class DecisionRule(StrEnum):
    MAJORITY = "majority"  # more yes than no among the votes cast
    CONSENT = "consent"  # passes unless someone votes no or blocks


class ProposalState(StrEnum):
    OPEN = "open"
    PASSED = "passed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


PROPOSAL_TRANSITIONS: dict[ProposalState, set[ProposalState]] = {
    ProposalState.OPEN: {ProposalState.PASSED, ProposalState.REJECTED, ProposalState.WITHDRAWN},
    ProposalState.PASSED: set(),
    ProposalState.REJECTED: set(),
    ProposalState.WITHDRAWN: set(),
}


class VoteChoice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"
    BLOCK = "block"


class Proposal(Entity):
    # The post carries the title and explanation, so a proposal threads and
    # federates like any post (as a poll: federation/polls.py).
    post = fields.OneToOneField("circles.Post", related_name="proposal", on_delete=fields.CASCADE)
    circle = fields.ForeignKeyField("circles.Circle", related_name="proposals", on_delete=fields.CASCADE)
    proposer = fields.ForeignKeyField("circles.Actor", related_name="proposals", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(ProposalKind, max_length=24)
    value_text = fields.TextField(default="")  # new rules, purpose or join mode
    value_actor = fields.ForeignKeyField(  # the member a facilitator change is about
        "circles.Actor", related_name="proposals_about", null=True, on_delete=fields.SET_NULL
    )
    decision_rule = fields.CharEnumField(DecisionRule, max_length=16)
    quorum = fields.IntField(default=0)  # votes that must be cast for any decision
    closes_at = fields.DatetimeField()
    state = fields.CharEnumField(ProposalState, max_length=16, default=ProposalState.OPEN)
    decided_at = fields.DatetimeField(null=True)
    outcome = fields.TextField(default="")  # what was decided and why, as shown in the log

    class Meta:
        table = "proposals"
        indexes = (("state", "closes_at"), ("circle_id", "state", "decided_at"))


class Vote(Entity):
    proposal = fields.ForeignKeyField("circles.Proposal", related_name="votes", on_delete=fields.CASCADE)
    voter = fields.ForeignKeyField("circles.Actor", related_name="votes", on_delete=fields.CASCADE)
    choice = fields.CharEnumField(VoteChoice, max_length=16)
    reason = fields.TextField(default="")  # required for a block
    uri = url_field(null=True)  # the remote vote's id (a Mastodon poll answer), to spot repeats
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "votes"
        unique_together = (("proposal", "voter"),)


class GovernanceSettings(Entity):
    # A circle's defaults for new proposals; absent means majority, no quorum.
    circle = fields.OneToOneField("circles.Circle", related_name="governance_settings", on_delete=fields.CASCADE)
    decision_rule = fields.CharEnumField(DecisionRule, max_length=16, default=DecisionRule.MAJORITY)
    quorum = fields.IntField(default=0)
    # Moderators come and go only by a passed proposal, not by a facilitator's
    # hand. Once the circle has adopted its charter, this stays as it is.
    moderators_by_proposal = fields.BooleanField(default=False)

    class Meta:
        table = "governance_settings"
