"""Status entities shaped as Mastodon's documentation and serializers shape
them (https://docs.joinmastodon.org/entities/Status/,
app/serializers/rest/status_serializer.rb), a page of posts at a time in a
fixed number of queries: circles, media, like counts, reply counts, parents'
authors, people mentioned, and with a viewer their likes and bookmarks, one
query each whatever the page's length.

How Circles' posts read as statuses:
- `visibility`: a public circle's posts are "public", a members-only
  circle's "private"; the circle's own notes (an accepted answer, a decision,
  an RSVP poll: posts.is_circle_note) are "unlisted", notices that belong in
  their thread, not in public timelines. Posts outside circles are "public".
- A titled post (a question, a resource ...) starts with its title in bold,
  as Circles federates titles to Mastodon (federation/convert.py, _poll_fields).
- `mentions`: the circle a post is in, then the local people its text names;
  `tags`: the hashtags of its text, and `question` for a question.
- `replies_count` counts direct replies, not the circle's notes (the thread
  page does not count them either); `reblogs_count` is 0: people here do not
  boost.
"""

from __future__ import annotations

import html
import re

from tortoise.expressions import Q
from tortoise.functions import Count

from models.accounts import Account
from models.actors import Actor
from models.circles import Circle
from models.instance import Instance
from models.media import Media
from models.posts import Post, PostKind, PostRevision
from models.services import bookmarks as bookmark_service
from models.services import likes
from models.services import media as media_service
from models.services import posts as post_service
from models.services.notification_events import MENTION_RE
from web.mastodon import poll_entities
from web.mastodon.entities import accounts, iso

HASHTAG_RE = re.compile(r"(?<![\w#&/])#(\w{1,40})", re.UNICODE)
QUESTION_TAG = "question"


async def statuses(
    posts: list[Post], *, instance: Instance, viewer: Account | None, source: bool = False,
) -> list[dict]:
    """Status entities for these posts, in their order (their authors loaded
    with `select_related("author")`, else loaded here in one query). Proposals
    and meetings carry their Poll (poll_entities.py); `source` gives `text` (the post as
    typed) instead of `content`, as Mastodon answers a delete."""
    if not posts:
        return []
    page = await _Page.load(posts, instance=instance, viewer=viewer)
    polls = await poll_entities.polls(posts, viewer=viewer)
    return [page.status(post, poll=polls.get(post.id), source=source) for post in posts]


class _Page:
    """What a page of posts needs beyond their rows, loaded together."""

    @classmethod
    async def load(cls, posts: list[Post], *, instance: Instance, viewer: Account | None) -> _Page:
        page = cls()
        page.instance, page.viewer = instance, viewer
        ids = [post.id for post in posts]
        authors = await _authors(posts)
        page.circles = await _circles(posts)
        parent_ids = {p.in_reply_to_id for p in posts if p.in_reply_to_id}
        page.parent_authors = dict(
            await Post.filter(id__in=parent_ids).values_list("id", "author_id")) if parent_ids else {}
        people = await _mentioned_people(posts, instance)
        shown = {**authors, **{c.actor.id: c.actor for c in page.circles.values()}, **people}
        page.accounts = {int(e["id"]): e for e in await accounts(list(shown.values()), instance=instance, viewer=viewer)}
        page.authors = authors
        page.people = people
        page.media = await media_service.media_of(ids)
        page.like_counts = await likes.counts_of(ids)
        page.reply_counts = await _reply_counts(ids, page.circles, posts)
        actor = viewer.actor if viewer is not None else None
        page.liked = await likes.liked_by(actor, ids) if viewer is not None else set()
        page.bookmarked = await bookmark_service.bookmarked(viewer, ids)
        return page

    def status(self, post: Post, *, poll: dict | None, source: bool) -> dict:
        circle = self.circles.get(post.circle_id)
        entity = {
            "id": str(post.id),
            "uri": post.uri,
            "url": post.url or post.uri,
            "created_at": iso(post.published_at),
            "edited_at": iso(post.edited_at),
            "account": self.accounts[post.author_id],
            "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
            "in_reply_to_account_id": _str(self.parent_authors.get(post.in_reply_to_id)),
            "sensitive": False,
            "spoiler_text": "",
            "visibility": visibility_of(post, circle),
            "language": post.language or None,
            "replies_count": self.reply_counts.get(post.id, 0),
            "reblogs_count": 0,
            "favourites_count": self.like_counts.get(post.id, 0),
            "media_attachments": [media_attachment(m) for m in self.media.get(post.id, [])],
            "mentions": self._mentions(post, circle),
            "tags": tags_of(post, self.instance),
            "emojis": [],
            "reblog": None,
            "poll": poll,
            "card": None,
            **({"text": post.source} if source else {"content": content_of(post), "text": None}),
        }
        if self.viewer is not None:  # Mastodon's `if: :current_user?` fields
            entity.update({
                "favourited": post.id in self.liked,
                "reblogged": False,
                "muted": False,  # no muted conversations here
                "bookmarked": post.id in self.bookmarked,
                "filtered": [],
            })
            if post.author_id == self.viewer.actor_id:  # `pinnable?`: no profile pins here
                entity["pinned"] = False
        return entity

    def _mentions(self, post: Post, circle: Circle | None) -> list[dict]:
        actors = [circle.actor] if circle is not None else []
        for name in _local_names(post.source, self.instance):
            person = self.people.get(name)
            if person is not None and person not in actors:
                actors.append(person)
        return [mention(actor, self.accounts[actor.id]) for actor in actors]


def _str(value) -> str | None:
    return str(value) if value is not None else None


async def _authors(posts: list[Post]) -> dict[int, Actor]:
    """The posts' authors by id, from the rows when loaded (else one query)."""
    loaded = {post.author_id: post.author for post in posts if _loaded(post, "author", Actor)}
    missing = {post.author_id for post in posts} - loaded.keys()
    if missing:
        loaded.update({actor.id: actor for actor in await Actor.filter(id__in=missing)})
    return loaded


def _loaded(post: Post, relation: str, model) -> bool:
    """Whether the row came with this relation (select_related), so reading it costs no query."""
    return isinstance(post.__dict__.get(f"_{relation}"), model)


async def _circles(posts: list[Post]) -> dict[int, Circle]:
    """The posts' circles (with their actors) by id, from the rows when loaded (else one query)."""
    loaded = {post.circle_id: post.circle for post in posts
              if _loaded(post, "circle", Circle) and _loaded(post.circle, "actor", Actor)}
    missing = {post.circle_id for post in posts if post.circle_id} - loaded.keys()
    if missing:
        loaded.update({c.id: c for c in await Circle.filter(id__in=missing).select_related("actor")})
    return loaded


def _local_names(source: str, instance: Instance) -> list[str]:
    """The usernames here that a post's text names (@name, @name@ourdomain)."""
    names = []
    for match in MENTION_RE.finditer(source or ""):
        if match.group(2) is None or match.group(2).lower() == instance.domain.lower():
            names.append(match.group(1).lower())
    return list(dict.fromkeys(names))


async def _mentioned_people(posts: list[Post], instance: Instance) -> dict[str, Actor]:
    """The local people and circles the page's local posts name, by username (one query)."""
    names = {name for post in posts if post.local for name in _local_names(post.source, instance)}
    if not names:
        return {}
    found = await Actor.filter(username__in=names, local=True, deleted_at=None)
    return {actor.username.lower(): actor for actor in found}


async def _reply_counts(ids: list[int], circles: dict[int, Circle], posts: list[Post]) -> dict[int, int]:
    """Live direct replies of each post, but the circle's own notes (one query)."""
    if not ids:
        return {}
    circle_actor = {post.id: circles[post.circle_id].actor_id for post in posts if post.circle_id in circles}
    # A reply is in its parent's thread, and in its circle or in none: naming
    # them lets the database find replies by the posts index on
    # (circle_id, root_id, id) rather than read every post.
    roots = {post.root_id or post.id for post in posts}
    in_thread = Q(circle_id=None, root_id__in=roots)
    if circle_ids := {post.circle_id for post in posts if post.circle_id is not None}:
        in_thread |= Q(circle_id__in=circle_ids, root_id__in=roots)
    replies = Post.filter(in_thread, in_reply_to_id__in=ids, deleted_at=None)
    rows = await replies.annotate(n=Count("id")).group_by(
        "in_reply_to_id", "author_id").values_list("in_reply_to_id", "author_id", "n")
    counts: dict[int, int] = {}
    for parent_id, author_id, n in rows:
        if author_id != circle_actor.get(parent_id):
            counts[parent_id] = counts.get(parent_id, 0) + n
    return counts


def visibility_of(post: Post, circle: Circle | None) -> str:
    if circle is None:
        return "public"
    if circle.members_only:
        return "private"
    return "unlisted" if post_service.is_circle_note(post, circle) else "public"


def content_of(post: Post, content: str | None = None, title: str | None = None) -> str:
    """The post's HTML, its title first in bold when it has one that its first
    line does not already say (a question asked from an app is titled from it)."""
    content = post.content if content is None else content
    title = post.title if title is None else title
    if not title or title in (post.source or "").split("\n", 1)[0]:
        return content
    return f"<p><strong>{html.escape(title, quote=False)}</strong></p>{content}"


def tags_of(post: Post, instance: Instance) -> list[dict]:
    names = [match.group(1).lower() for match in HASHTAG_RE.finditer(post.source or "")]
    if post.kind is PostKind.QUESTION:
        names.append(QUESTION_TAG)
    return [{"name": name, "url": f"{instance.base_url}/tags/{name}"} for name in dict.fromkeys(names)]


def mention(actor: Actor, account: dict) -> dict:
    """Mastodon's Status::Mention: id, username, url, acct."""
    return {"id": account["id"], "username": actor.username, "url": account["url"], "acct": account["acct"]}


def media_attachment(media: Media) -> dict:
    """Mastodon's MediaAttachment (app/serializers/rest/media_attachment_serializer.rb): images only here."""
    meta = {}
    if media.width and media.height:
        meta["original"] = {"width": media.width, "height": media.height,
                            "size": f"{media.width}x{media.height}", "aspect": media.width / media.height}
    return {
        "id": str(media.id),
        "type": "image",
        "url": media.url,
        "preview_url": media.url,
        "remote_url": None if media.local else media.url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.alt or None,
        "blurhash": None,
    }


async def status_edits(post: Post, revisions: list[PostRevision], *, instance: Instance,
                       viewer: Account | None) -> list[dict]:
    """Mastodon's StatusEdit list (app/serializers/rest/status_edit_serializer.rb),
    oldest first, ending with the post as it is now; each version dated when it
    was written (the version before it was replaced then)."""
    author = await _authors([post])
    account = (await accounts(list(author.values()), instance=instance, viewer=viewer))[0]
    media = [media_attachment(m) for m in (await media_service.media_of([post.id])).get(post.id, [])]
    ordered = sorted(revisions, key=lambda revision: (revision.edited_at, revision.id))
    written = [post.published_at, *(revision.edited_at for revision in ordered)]
    versions = [(r.title, r.content) for r in ordered] + [(post.title, post.content)]
    return [
        {
            "content": content_of(post, content, title),
            "spoiler_text": "",
            "sensitive": False,
            "created_at": iso(moment),
            "account": account,
            "media_attachments": media,
            "emojis": [],
        }
        for (title, content), moment in zip(versions, written, strict=True)
    ]
