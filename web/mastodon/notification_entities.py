"""Notification entities (https://docs.joinmastodon.org/entities/Notification/,
app/serializers/rest/notification_serializer.rb): our kinds as Mastodon's types.

Mastodon's types say who did what to which status. Our kinds map to the closest:

| our kind                                   | Mastodon type   | account                  | status           |
|--------------------------------------------|-----------------|--------------------------|------------------|
| post.reply, post.mention, question.answer, review.received | mention | who wrote it          | the reply/post   |
| answer.accepted                            | mention         | who accepted (or circle) | the answer       |
| question.revealed                          | mention         | the circle               | the question     |
| post.liked                                 | favourite       | who found it helpful     | the post         |
| person.followed                            | follow          | the new follower         | -                |
| circle.join_request                        | follow_request  | who asks to join         | -                |
| proposal.new, proposal.decided             | status          | the proposer, or circle  | the proposal     |
| meeting.created/changed/cancelled/reminder/reflection | status | who changed it, or circle | the meeting post |

Kinds with nothing a Mastodon app could show (tutoring, invitations,
answered join requests, a circle without facilitator, reports) stay on the
web's notifications page only: every Mastodon type but follow ones needs a
status, and `admin.report` a Report entity we do not build.
"""

from __future__ import annotations

from models.accounts import Account
from models.actors import Actor
from models.instance import Instance
from models.notifications import Notification
from models.posts import Post
from models.services import visibility
from web.mastodon.entities import accounts, iso
from web.mastodon.status_entities import statuses

TYPES: dict[str, str] = {
    "post.reply": "mention",
    "post.mention": "mention",
    "question.answer": "mention",
    "review.received": "mention",
    "answer.accepted": "mention",
    "question.revealed": "mention",
    "post.liked": "favourite",
    "person.followed": "follow",
    "circle.join_request": "follow_request",
    "proposal.new": "status",
    "proposal.decided": "status",
    "meeting.created": "status",
    "meeting.changed": "status",
    "meeting.cancelled": "status",
    "meeting.reminder": "status",
    "meeting.reflection": "status",
}
WITHOUT_STATUS = frozenset({"follow", "follow_request"})
# Every type Mastodon knows (app/models/notification.rb, PROPERTIES): asking
# for one we never make is no error, it finds nothing.
MASTODON_TYPES = frozenset({
    "mention", "status", "reblog", "status_reference", "follow", "follow_request", "favourite", "poll",
    "update", "severed_relationships", "moderation_warning", "annual_report", "admin.sign_up", "admin.report",
})


def kinds_for(types: list[str], exclude_types: list[str]) -> list[str]:
    """Our kinds for Mastodon's `types[]` and `exclude_types[]`, as
    Notification.browserable reads them: the asked types that exist, less the excluded."""
    wanted = set(TYPES.values()) if not types else set(types) & MASTODON_TYPES
    wanted -= set(exclude_types)
    return [kind for kind, kind_type in TYPES.items() if kind_type in wanted]


def rows_query(account: Account):
    """An account's notifications that the API shows, with what entities need."""
    return Notification.filter(recipient=account, kind__in=list(TYPES)).select_related("actor", "circle__actor")


async def notifications(rows: list[Notification], *, instance: Instance, viewer: Account) -> list[dict]:
    """Entities for these rows (loaded by `rows_query`), in their order: three
    queries however many. A row whose status is gone, or that the person may
    no longer read (they left its members-only circle), is left out, as
    Mastodon leaves out notifications of deleted statuses."""
    subject_ids = {row.subject_id for row in rows if row.subject_id}
    posts = await Post.filter(
        visibility.readable_circles(viewer.actor), id__in=subject_ids, deleted_at=None
    ).select_related("author", "circle__actor") if subject_ids else []
    status_by_id = {int(s["id"]): s for s in await statuses(list(posts), instance=instance, viewer=viewer)}
    post_by_id = {post.id: post for post in posts}
    causers = {row.id: _causer(row, post_by_id.get(row.subject_id)) for row in rows}
    actors = list({actor.id: actor for actor in causers.values() if actor is not None}.values())
    account_by_id = {int(a["id"]): a for a in await accounts(actors, instance=instance, viewer=viewer)}
    entities = []
    for row in rows:
        kind_type, causer = TYPES[row.kind], causers[row.id]
        status = status_by_id.get(row.subject_id) if row.subject_id else None
        if causer is None or (kind_type not in WITHOUT_STATUS and status is None):
            continue
        entities.append({
            "id": str(row.id),
            "type": kind_type,
            "group_key": row.group_key or f"ungrouped-{row.id}",
            "created_at": iso(row.created_at),
            "account": account_by_id[causer.id],
            **({"status": status} if kind_type not in WITHOUT_STATUS else {}),
        })
    return entities


def _causer(row: Notification, post: Post | None) -> Actor | None:
    """Who the notification names: who caused it, else the circle it is of
    (an accepted answer of a safe question, a decision, a reminder), else the post's author."""
    if row.actor_id is not None:
        return row.actor
    if row.circle_id is not None and row.circle is not None:
        return row.circle.actor
    return post.author if post is not None else None
