"""From our models to ActivityStreams 2.0, named by direction (`person_to_as`,
`post_to_as`, ...). Output dicts are ready for `vocab.document`. The other
direction, remote documents into checked inputs, is federation/parse.py."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from urllib.parse import quote

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from federation import vocab
from federation.signatures import load_public_key, public_key_to_multibase
from models.actors import Actor, ActorKey, KeyAlgorithm
from models.circles import Circle
from models.media import Media
from models.meetings import Meeting
from models.posts import Post
from models.resources import Resource
from models.services.media import media_type_of
from models.text import cut_at_word, plain_lines
from models.tutoring import Pairing, TutoringMessage


def language_tag(code: str) -> dict:
    """A language as Lemmy's LanguageTag, which needs both fields: Lemmy
    fails to read a whole Group (or post) with an entry that lacks `name`.
    Lemmy main crates/apub/objects/src/utils/protocol.rs:118-123 and 0.19.20
    crates/apub/src/protocol/objects/mod.rs:33-38: `struct LanguageTag {
    identifier: String, name: String }`, no serde default. The name is in the
    language itself, as Lemmy writes it ("Français"); the code when Babel
    does not know it."""
    try:
        locale = Locale.parse(code.replace("-", "_"))
        name = locale.get_display_name(locale) or code
    except (ValueError, UnknownLocaleError):
        name = code
    return {"identifier": code, "name": name[:1].upper() + name[1:]}


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _keys(actor: Actor, keys: list[ActorKey]) -> dict:
    """publicKey (RSA, what Mastodon reads) and assertionMethod (Ed25519 Multikey, FEP-521a)."""
    body: dict = {}
    active = [k for k in keys if k.revoked_at is None]
    rsa = next((k for k in active if k.algorithm is KeyAlgorithm.RSA), None)
    if rsa is not None:
        body["publicKey"] = {"id": rsa.key_id, "owner": actor.uri, "publicKeyPem": rsa.public_pem}
    body["assertionMethod"] = [
        {
            "id": k.key_id,
            "type": "Multikey",
            "controller": actor.uri,
            "publicKeyMultibase": public_key_to_multibase(load_public_key(k.public_pem)),
        }
        for k in active
        if k.algorithm is KeyAlgorithm.ED25519
    ]
    return body


def _actor_common(actor: Actor, keys: list[ActorKey]) -> dict:
    return {
        "id": actor.uri,
        "type": actor.kind.value,
        "preferredUsername": actor.username,
        "name": actor.display_name or actor.username,
        "summary": actor.summary,
        "url": actor.profile_url or actor.uri,
        "inbox": actor.inbox_url,
        "outbox": actor.outbox_url,
        "followers": actor.followers_url,
        "following": actor.following_url,
        "endpoints": {"sharedInbox": actor.shared_inbox_url},
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": True,
        "published": iso(actor.created_at),
        **_keys(actor, keys),
        **_icon(actor),
    }


def _icon(actor: Actor) -> dict:
    """A local person's profile picture as their `icon`: an Image whose `url`
    Mastodon downloads as the avatar (mastodon/mastodon
    app/services/activitypub/process_account_service.rb at 0086549, line 75
    `@account.avatar_remote_url = image_url('icon')`, and image_url, lines
    96-100: a Hash's `url`)."""
    if not (actor.local and actor.avatar_file and actor.avatar_url):
        return {}
    return {"icon": {"type": "Image", "mediaType": media_type_of(actor.avatar_file), "url": actor.avatar_url}}


def person_to_as(actor: Actor, keys: list[ActorKey], *, discoverable: bool, indexable: bool) -> dict:
    """A person, with their consent to be suggested (`discoverable`) and to
    have their public posts in full-text search (`indexable`). Mastodon reads
    both and treats a missing one as no (app/services/activitypub/
    process_account_service.rb, set_immediate_attributes!: `@json['indexable'] || false`)."""
    return {
        **_actor_common(actor, keys), "featured": f"{actor.uri}/featured",
        "discoverable": discoverable, "indexable": indexable,
    }


def application_to_as(actor: Actor, keys: list[ActorKey]) -> dict:
    """The instance actor: signs fetches, so authorized-fetch servers answer."""
    body = _actor_common(actor, keys)
    body["manuallyApprovesFollowers"] = True
    body["discoverable"] = False
    return body


def group_to_as(
    circle: Circle, actor: Actor, keys: list[ActorKey], *, summary_html: str, rules_html: str,
    topic_links: dict[str, str],
) -> dict:
    """A circle as a FEP-1b12 Group, shaped as Lemmy communities are; its
    profile as PropertyValues and its topics as Hashtags, which Mastodon shows."""
    attachment = [
        {"type": "PropertyValue", "name": name, "value": value}
        for name, value in (
            ("Join", circle.join_mode.value),
            ("Meets", circle.meeting_cadence),
            ("Place", circle.location),
            ("Time zone", circle.timezone),
            ("Language", circle.language),
            ("Size limit", f"{circle.size_limit} members" if circle.size_limit else ""),
        )
        if value
    ]
    return {
        **_actor_common(actor, keys),
        "name": circle.name,
        "summary": summary_html,
        "content": rules_html,
        "source": {"content": circle.purpose, "mediaType": "text/markdown"},
        "attributedTo": f"{actor.uri}/moderators",
        "moderators": f"{actor.uri}/moderators",
        "featured": f"{actor.uri}/featured",
        "postingRestrictedToMods": False,
        "attachment": attachment,
        "tag": [{"type": "Hashtag", "name": f"#{tag}", "href": href} for tag, href in topic_links.items()],
        "language": [language_tag(circle.language)] if circle.language else [],
        # Lemmy 1.0 reads manuallyApprovesFollowers as "a private community"
        # (crates/apub/objects/src/utils/functions.rs, `community_visibility`)
        # and then takes only non-public posts from it, public ones only from
        # other communities (`verify_visibility`, same file). So it says
        # whether the circle is members-only, whose activities are addressed
        # to its followers, not its join mode (shown in `attachment`).
        "manuallyApprovesFollowers": circle.members_only,
    }


NAME_LONGEST = 100  # characters of a title derived from an untitled post's first line
SUMMARY_LONGEST = 500  # characters of the plain-text summary of a Page or Event


def post_to_as(
    post: Post, *, author: Actor, circle_actor: Actor | None, parent_uri: str | None,
    accepted_answer_uri: str | None = None, value_cycle: str | None = None,
    resource: Resource | None = None, resource_tags: Sequence[str] = (), poll: dict | None = None,
    meeting: Meeting | None = None, media: Sequence[Media] = (), mentions: Sequence[Actor] = (),
) -> dict:
    """A post as a Page (top-level posts, titled, as Lemmy needs them) or a
    Note (replies), addressed publicly and to its circle (FEP-1b12), and to
    the remote people it answers (`mentions`: in `cc` and as Mention tags,
    so their servers notify them). Its kind shows as a hashtag
    (vocab.KIND_TAGS); a shared reflection also carries #<value_cycle>value.
    A library resource (with its tags) is a link Page: see `_resource_fields`.
    `poll` (from federation/polls.py) makes it a Question, as Mastodon polls
    are; a meeting's post is a Mobilizon-style Event. Its images are
    `attachment`s as Mastodon sends them. federation/documents.py gathers
    these keyword arguments for a post."""
    if meeting is not None:
        return meeting_to_as(post, meeting, author=author, circle_actor=circle_actor)
    # Lemmy 1.0 takes a top-level Note for a private message, not a post
    # (main crates/apub/activities/src/create_or_update/note_wrapper.rs:35-76:
    # an announced Create{Note} without inReplyTo is refused), so every
    # top-level post is a Page, named from its first line when untitled.
    is_page = parent_uri is None and poll is None
    body: dict = {
        "id": post.uri,
        "type": "Page" if is_page else "Note",
        "attributedTo": author.uri,
        "content": post.content,
        "mediaType": "text/html",
        "published": iso(post.published_at),
        "url": post.url or post.uri,
        "to": [vocab.PUBLIC],
        "cc": [],
        "sensitive": False,
    }
    if post.source:
        body["source"] = {"content": post.source, "mediaType": "text/markdown"}
    if is_page:
        body.update(_page_name_and_summary(post))
    if post.language:
        body["contentMap"] = {post.language: post.content}
        body["language"] = language_tag(post.language)
    if post.updated_at:
        body["updated"] = iso(post.updated_at)
    if parent_uri:
        body["inReplyTo"] = parent_uri
    if accepted_answer_uri:
        body["acceptedAnswer"] = accepted_answer_uri
    if post.kind in vocab.KIND_TAGS and parent_uri is None:
        where = circle_actor.uri if circle_actor else post.uri
        names = [vocab.KIND_TAGS[post.kind]] + ([f"#{value_cycle}value"] if value_cycle else [])
        body["tag"] = [{"type": "Hashtag", "name": name, "href": where} for name in names]
    if circle_actor is not None:
        body["audience"] = circle_actor.uri
        body["to"].append(circle_actor.uri)
        body["cc"].append(circle_actor.followers_url)
    body["replies"] = f"{post.uri}/replies"
    if resource is not None:
        body.update(_resource_fields(post, resource, resource_tags, circle_actor))
    if media:
        body["attachment"] = [*body.get("attachment", []), *(media_to_as(item) for item in media)]
    if poll is not None:
        body.update(_poll_fields(post, poll))
    if mentions:
        _mention(body, mentions)
    return body


def _page_name_and_summary(post: Post) -> dict:
    """A Page's `name` (its title, else its first line) and `summary`: the
    start of its text, plain. Mastodon shows a Page as its name, its summary
    and a link, never its content (Mastodon 4.6
    app/lib/activitypub/parser/status_parser.rb:48-56 `processed_text`;
    Page is among the converted types, app/lib/activitypub/activity.rb:10),
    so the summary is what its users read of the post. Lemmy ignores it
    (no `summary` field in Lemmy's Page, crates/apub/objects/src/protocol/page.rs)."""
    lines = plain_lines(post.content)
    name, rest = post.title, lines
    if not name:
        first = lines[0] if lines else ""
        name = cut_at_word(first, NAME_LONGEST) or "…"
        rest = lines[1:] if name == first else lines  # the whole first line is the name: not twice
    fields = {"name": name}
    summary = cut_at_word(" ".join(rest), SUMMARY_LONGEST)
    if summary:
        # Mastodon inserts it as HTML: escaped, it shows as the text it is.
        fields["summary"] = html.escape(summary, quote=False)
    return fields


def _poll_fields(post: Post, poll: dict) -> dict:
    """A Question's fields. Mastodon shows a Question's `content` only, never
    its `name` (Question is a supported, not a converted, type: Mastodon 4.6
    app/lib/activitypub/parser/status_parser.rb:40-46), so the title also
    opens the content. parse.as_to_post_input takes it off again."""
    fields = {"name": post.title, **poll}
    if post.title:
        content = f"<p><strong>{html.escape(post.title, quote=False)}</strong></p>{post.content}"
        fields["content"] = content
        if post.language:
            fields["contentMap"] = {post.language: content}
    return fields


def _mention(body: dict, people: Sequence[Actor]) -> None:
    """Address a post to the people it answers: Mastodon notifies only a
    Mention tag's href (app/services/fan_out_on_write_service.rb:81-86 on
    `active_mentions`; a bare `cc` makes a silent mention, create.rb:131-138),
    and files the notification away as from a stranger unless they are also
    in `to`/`cc` (app/lib/activitypub/activity/create.rb:145-147,
    app/services/notify_service.rb:203-205)."""
    body["cc"] = [*body["cc"], *(p.uri for p in people if p.uri not in body["cc"])]
    body["tag"] = [*body.get("tag", []), *(mention_tag(p) for p in people)]


def media_to_as(media: Media) -> dict:
    """An image as Mastodon sends and reads one: its description is `name`."""
    body = {
        "type": "Image" if media.media_type.startswith("image/") else "Document",
        "mediaType": media.media_type,
        "url": media.url,
        "name": media.alt,
    }
    if media.width and media.height:
        body.update(width=media.width, height=media.height)
    return body


def meeting_to_as(post: Post, meeting: Meeting, *, author: Actor, circle_actor: Actor | None) -> dict:
    """A meeting as Mobilizon publishes events: times in UTC plus the zone
    they were planned in, the place as a Place, the online link as a Link
    attachment, open participation (Join / Leave) and the "going" count."""
    body = post_to_as(post, author=author, circle_actor=circle_actor, parent_uri=None)
    body.update({
        "type": "Event",
        "name": post.title,
        "startTime": iso(meeting.starts_at),
        "endTime": iso(meeting.ends_at),
        "timezone": meeting.timezone,
        "joinMode": "free",
        "anonymousParticipationEnabled": False,
        "commentsEnabled": True,
        "participantCount": meeting.going_count,
        "isOnline": bool(meeting.online_url),
        "ical:status": "CANCELLED" if meeting.cancelled_at else "CONFIRMED",
    })
    if meeting.place:
        body["location"] = {"type": "Place", "name": meeting.place}
    if meeting.online_url:
        body["attachment"] = [{"type": "Link", "name": "Website", "mediaType": "text/html", "href": meeting.online_url}]
    if meeting.capacity is not None:
        body["maximumAttendeeCapacity"] = meeting.capacity
        body["remainingAttendeeCapacity"] = max(meeting.capacity - meeting.going_count, 0)
    if meeting.updated_at:
        body["updated"] = iso(meeting.updated_at)
    body["summary"] = html.escape(meeting_summary(post, meeting), quote=False)
    return body


RSVP_HINT = "To say whether you are coming, answer the circle's poll in the replies."


def meeting_summary(post: Post, meeting: Meeting) -> str:
    """What a Mastodon user reads of a meeting (an Event shows only its name,
    summary and link there, see `_page_name_and_summary`): when (in the time
    zone it was planned in), where, how to answer, then the start of its text."""
    zone = meeting.timezone or "UTC"
    when = format_datetime(meeting.starts_at, "EEEE d MMMM y, HH:mm", tzinfo=zone, locale="en")
    until = format_datetime(meeting.ends_at, "HH:mm", tzinfo=zone, locale="en")
    parts = [f"{when}–{until} ({zone})."]
    if meeting.place:
        parts.append(f"Place: {meeting.place}.")
    if meeting.online_url:
        parts.append(f"Online: {meeting.online_url}")
    if meeting.cancelled_at:
        parts.insert(0, "Cancelled.")
    else:
        parts.append(RSVP_HINT)
    text = " ".join(plain_lines(post.content))
    return cut_at_word(" ".join(parts + ([text] if text else [])), SUMMARY_LONGEST)


def _resource_fields(post: Post, resource: Resource, tags: Sequence[str], circle_actor: Actor | None) -> dict:
    """The link as Lemmy reads it (an `attachment` Link) and Mastodon shows it
    (`url`, beside `name`), also in `content` for everyone else; tags as Hashtags."""
    link = html.escape(resource.link)
    content = f'{post.content}<p><a href="{link}" rel="noopener nofollow ugc">{link}</a></p>'
    fields: dict = {
        "type": "Page",
        "name": post.title,
        "url": resource.link,
        "attachment": [{"type": "Link", "href": resource.link, "mediaType": "text/html"}],
        "content": content,
    }
    if post.language:
        fields["contentMap"] = {post.language: content}
    if tags:
        # Our library's tag pages exist only for circles hosted here.
        tag_base = f"{circle_actor.uri}/resources?tag=" if circle_actor is not None and circle_actor.local else None
        fields["tag"] = [
            {"type": "Hashtag", "name": f"#{tag}", **({"href": tag_base + quote(tag)} if tag_base else {})}
            for tag in tags
        ]
    return fields


def post_to_create(post: Post, *, author: Actor, circle_actor: Actor | None, **refs) -> dict:
    """The Create activity of a post; its id is served (federation/routes.py)
    so Announces that carry it can be dereferenced. `refs` as post_to_as takes them."""
    note = post_to_as(post, author=author, circle_actor=circle_actor, **refs)
    body = {
        "id": f"{post.uri}/activity", "type": "Create", "actor": author.uri,
        "published": note["published"], "to": note["to"], "cc": note["cc"], "object": note,
    }
    if circle_actor is not None:
        body["audience"] = circle_actor.uri
    mentions = [tag for tag in note.get("tag", []) if tag["type"] == "Mention"]
    if mentions:  # Lemmy 1.0 notifies the Mention tags of the activity, not of its Note
        body["tag"] = mentions  # (main crates/apub/activities/src/create_or_update/comment.rs:150)
    return body


def announce_of(group: Actor, post: Post, activity: dict, *, suffix: str = "") -> dict:
    """The circle re-sharing an activity about one of its posts (FEP-1b12).
    The Announce of the post's Create has an id of its own, served at that
    address (federation/routes.py) and listed in the outbox; an Announce of a
    later change adds `#suffix`, a new id each time, as Lemmy drops an id it
    has seen (0.19.20 crates/apub/src/activities/community/announce.rs:163)."""
    announce_id = f"{group.uri}/announces/{post.id}" + (f"#{suffix}" if suffix else "")
    return {
        "id": announce_id, "type": "Announce", "actor": group.uri,
        "to": [vocab.PUBLIC], "cc": [group.followers_url], "audience": group.uri, "object": activity,
    }


def boost_of(group: Actor, post: Post) -> dict:
    """The circle boosting a post, as microblogging servers take it: the
    object by id, fetched from its origin. Mastodon never reads an announced
    Create it cannot fetch by its own id (Mastodon 4.6
    app/lib/activitypub/activity.rb:100-117, app/helpers/json_ld_helper.rb:200),
    so it needs the post itself, as Lemmy's compatibility Announce gives it
    (0.19.20 crates/apub/src/activities/community/announce.rs:108-139).
    Mastodon keeps the boost under this id (announce.rb:21), which the Undo names."""
    return {
        "id": f"{group.uri}/boosts/{post.id}", "type": "Announce", "actor": group.uri,
        "published": iso(post.published_at), "to": [vocab.PUBLIC], "cc": [group.followers_url], "object": post.uri,
    }


def undo_of(actor: Actor, activity: dict, suffix: str) -> dict:
    return {"id": f"{activity['id']}#{suffix}", "type": "Undo", "actor": actor.uri,
            "to": activity.get("to", [vocab.PUBLIC]), "cc": activity.get("cc", []), "object": activity}


def poll_to_as(counts: dict[str, int], *, ends_at: dt.datetime, closed_at: dt.datetime | None) -> dict:
    """The Question fields of a one-choice poll (Mastodon's `oneOf`): each
    option's name and count, the end, and `closed` once it is over."""
    body: dict = {
        "type": "Question",
        "oneOf": [
            {"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": count}}
            for name, count in counts.items()
        ],
        "endTime": iso(ends_at),
        "votersCount": sum(counts.values()),
    }
    if closed_at is not None:
        body["closed"] = iso(closed_at)
    return body


def ordered_collection(collection_id: str, total: int, *, first: str | None = None, items: list | None = None) -> dict:
    body: dict = {"id": collection_id, "type": "OrderedCollection", "totalItems": total}
    if items is not None:
        body["orderedItems"] = items
    if first is not None:
        body["first"] = first
    return body


def ordered_collection_page(page_id: str, part_of: str, items: list, *, next_page: str | None) -> dict:
    body = {"id": page_id, "type": "OrderedCollectionPage", "partOf": part_of, "orderedItems": items}
    if next_page:
        body["next"] = next_page
    return body


# --- direct notes: tutoring -------------------------------------------------------


def mention_tag(actor: Actor) -> dict:
    return {"type": "Mention", "href": actor.uri, "name": f"@{actor.username}@{actor.domain}"}


def mention_html(actor: Actor) -> str:
    """A mention as Mastodon writes it at the start of a direct message."""
    href = html.escape(actor.profile_url or actor.uri)
    return (f'<span class="h-card"><a href="{href}" class="u-url mention">@<span>'
            f"{html.escape(actor.username)}</span></a></span> ")


def direct_note(note_id: str, *, author: Actor, to: Actor, content_html: str, in_reply_to: str | None = None,
                published: dt.datetime | None = None, **extra) -> dict:
    """A Create of a Note for one person alone, shaped as Mastodon's direct
    messages are: `to` them, no `cc`, never Public or followers, a Mention
    tag (so Mastodon shows it under "private mentions")."""
    note = {
        "id": note_id, "type": "Note", "attributedTo": author.uri, "to": [to.uri], "cc": [],
        "content": mention_html(to) + content_html, "tag": [mention_tag(to)], "inReplyTo": in_reply_to,
        "published": iso(published), "sensitive": False, **extra,
    }
    return {"id": f"{note_id}/activity", "type": "Create", "actor": author.uri, "to": [to.uri], "cc": [],
            "published": note["published"], "object": note}


def tutoring_message_to_create(message: TutoringMessage, *, pairing: Pairing, to: Actor,
                               in_reply_to: str | None, closing: bool = False) -> dict:
    """A tutoring message written here, for the pairing's other person. The
    `tutoring` term names the pairing, for a Circles instance receiving it
    (and says when this message closes it)."""
    term = {"circle": pairing.circle.actor.uri, "skill": pairing.skill,
            "helper": pairing.helper.uri, "learner": pairing.learner.uri}
    return direct_note(
        message.uri, author=message.author, to=to, content_html=message.content, in_reply_to=in_reply_to,
        published=message.created_at, tutoring=term | ({"closed": True} if closing else {}),
    )
