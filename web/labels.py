"""How the UI names the values of the models' enums (an account's state, a member's role,
a proposal's kind...): English marked for extraction here, translated when a template
shows one with `{{ enum_label(value) }}`."""

from __future__ import annotations

from enum import Enum

from models.accounts import AccountState
from models.circles import MembershipState, Role, Visibility
from models.governance import DecisionRule, ProposalKind, ProposalState, VoteChoice
from models.posts import PostKind
from models.resources import Level
from web.i18n import N_, gettext

# By enum class: the values are plain strings, so "active" of one enum equals "active" of another.
ENUM_LABELS: dict[type[Enum], dict[str, str]] = {
    AccountState: {
        AccountState.ACTIVE: N_("active"),
        AccountState.PENDING: N_("pending"),
        AccountState.DISABLED: N_("disabled"),
    },
    MembershipState: {
        MembershipState.PENDING: N_("pending"),
        MembershipState.ACTIVE: N_("active"),
        MembershipState.BANNED: N_("banned"),
    },
    Role: {
        Role.FACILITATOR: N_("facilitator"),
        Role.MODERATOR: N_("moderator"),
        Role.MEMBER: N_("member"),
    },
    ProposalKind: {
        ProposalKind.RULES: N_("rules"),
        ProposalKind.PURPOSE: N_("purpose"),
        ProposalKind.JOIN_MODE: N_("join mode"),
        ProposalKind.VISIBILITY: N_("who can see the circle"),
        ProposalKind.ADD_FACILITATOR: N_("add facilitator"),
        ProposalKind.REMOVE_FACILITATOR: N_("remove facilitator"),
        ProposalKind.ROTATE_FACILITATION: N_("rotate facilitation"),
        ProposalKind.ADD_MODERATOR: N_("add moderator"),
        ProposalKind.REMOVE_MODERATOR: N_("remove moderator"),
        ProposalKind.FREE_TEXT: N_("free text"),
    },
    # Who can read something, in the words every form and item uses.
    Visibility: {
        Visibility.PUBLIC: N_("Anyone on the web and the fediverse"),
        Visibility.MEMBERS: N_("Members of this circle"),
    },
    DecisionRule: {
        DecisionRule.MAJORITY: N_("majority"),
        DecisionRule.CONSENT: N_("consent"),
    },
    PostKind: {  # a feed card's badge (posts/_card.html), a search result (search/_results.html)
        PostKind.DISCUSSION: N_("Discussion"),
        PostKind.QUESTION: N_("Question"),
        PostKind.ANSWER: N_("Answer"),
        PostKind.RESOURCE: N_("Resource"),
        PostKind.MEETING: N_("Meeting"),
        PostKind.REFLECTION: N_("Reflection"),
        PostKind.PROPOSAL: N_("Proposal"),
        PostKind.REVIEW: N_("Work for review"),
    },
    ProposalState: {
        ProposalState.OPEN: N_("open"),
        ProposalState.PASSED: N_("passed"),
        ProposalState.REJECTED: N_("rejected"),
        ProposalState.WITHDRAWN: N_("withdrawn"),
    },
    VoteChoice: {
        VoteChoice.YES: N_("yes"),
        VoteChoice.NO: N_("no"),
        VoteChoice.ABSTAIN: N_("abstain"),
        VoteChoice.BLOCK: N_("block"),
    },
    Level: {
        Level.ANY: N_("any"),
        Level.BEGINNER: N_("beginner"),
        Level.INTERMEDIATE: N_("intermediate"),
        Level.ADVANCED: N_("advanced"),
    },
}


def enum_label(value: Enum) -> str:
    """The translated name of an enum value; the raw value for one without a label."""
    label = ENUM_LABELS.get(type(value), {}).get(value)
    return gettext(label) if label else str(getattr(value, "value", value))
