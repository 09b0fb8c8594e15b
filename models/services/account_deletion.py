"""Deleting a local person's account, by themselves or by an admin.

What goes: the account (email, password, sessions, notifications, calendar
link), their profile, every post they wrote (its text, title and images are
erased; the post stays as a "deleted" tombstone where others replied to it, so
threads keep their shape; its earlier versions go too), their reflections, skills, tutoring messages (the
other person's stay), likes, meeting answers, poll answers, follows both ways
and memberships (their votes on open proposals are withdrawn with them, and
a proposal only they had still to vote on is decided).

What stays: the actor row, as a tombstone with no name or profile, so that
their handle is never given to someone else (links and replies elsewhere
point at it) and their `Delete` can still be signed; moderation records
(reports they made or received, the circles' moderation logs), which
circles keep for their members.

Other servers are told with one `Delete` of the actor (federation/fanout.py
`actor.deleted`), which Mastodon, Lemmy and Circles answer by removing
everything of theirs that they hold.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account, AccountState
from models.actors import Actor, Follow
from models.circles import Membership, MembershipState, Role
from models.errors import Conflict, PermissionDenied
from models.federation import OutboxEvent
from models.instance import Instance
from models.media import Media
from models.polls import PollAnswer
from models.posts import Like, Post
from models.reflections import Reflection
from models.services import media as media_service
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import governance_decisions, oauth, roles
from models.services.memberships import end_membership
from models.tutoring import Pairing, Skill, TutoringMessage


async def delete_account(
    account: Account, *, by: Account, instance: Instance, media_store: media_service.MediaStore | None = None
) -> None:
    """Delete `account` as the module says. `by` is the person themselves
    (the web layer has checked their password) or an admin. The last active
    admin cannot be deleted: someone must be left to run the instance."""
    if by.id != account.id and not by.is_admin:
        raise PermissionDenied("Only the person themselves or an admin can delete an account.")
    if account.is_admin and not await Account.filter(
        is_admin=True, state=AccountState.ACTIVE
    ).exclude(id=account.id).exists():
        raise Conflict("This is the only admin: make someone else an admin first, so the instance keeps one.")
    await account.fetch_related("actor")
    actor = account.actor
    async with in_transaction():
        file_names = await _erase_posts(actor)
        if actor.avatar_file:
            file_names.append(actor.avatar_file)  # their profile picture goes too
        circle_ids = await _erase_the_rest(actor)
        await Actor.filter(id=actor.id).update(
            display_name="", summary="", avatar_url=None, avatar_file=None, deleted_at=clock.now(),
            updated_at=clock.now(),
        )
        await OutboxEvent.create(kind="actor.deleted", subject_id=actor.id)
        await oauth.revoke_all(account)  # the rows go with the account too; no token may act meanwhile
        await account.delete()
    await governance_decisions.decide_after_leaving(instance, circle_ids)
    if media_store is not None:
        media_store.remove(file_names)


async def _erase_posts(actor: Actor) -> list[str]:
    """Every post they wrote (or asked safely) is deleted and its words and
    images erased; the names of the image files to remove after commit."""
    posts = await Post.filter(Q(author=actor) | Q(asked_by=actor))
    for post in posts:
        # A safe question belongs to its circle (its author), which was never named.
        await post_service.mark_deleted(post, by=None)
    ids = [post.id for post in posts]
    file_names = await Media.filter(
        Q(post_id__in=ids) | Q(owner_id=actor.id), file_name__not_isnull=True
    ).values_list("file_name", flat=True)
    await Media.filter(Q(post_id__in=ids) | Q(owner_id=actor.id)).delete()
    await Post.filter(id__in=ids).update(title="", source="", content="", asked_by_id=None)
    await post_service.forget_revisions(ids, editor=actor)
    return list(file_names)


async def _erase_the_rest(actor: Actor) -> list[int]:
    """All else but the account; the circles they were in."""
    facilitated = []
    members = await Membership.filter(actor=actor)
    for member in members:
        if member.role is Role.FACILITATOR and member.state is MembershipState.ACTIVE:
            facilitated.append(member.circle_id)
        await end_membership(member)
    await roles.after_facilitators_left(facilitated)
    await Follow.filter(Q(follower=actor) | Q(target=actor)).delete()
    await Like.filter(actor=actor).delete()
    await PollAnswer.filter(actor=actor).delete()
    await meeting_service.forget_answers(actor)
    await Reflection.filter(author=actor).delete()
    await Skill.filter(actor=actor).delete()
    await TutoringMessage.filter(author=actor).update(source="", content="")
    await Pairing.filter(Q(helper=actor) | Q(learner=actor), closed_at=None).update(closed_at=clock.now())
    return [member.circle_id for member in members]
