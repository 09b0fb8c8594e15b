"""Conversions between our models and ActivityStreams 2.0, named by direction
(`person_to_as`, `post_to_as`, ...). Output dicts are ready for `vocab.document`."""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from federation import vocab
from federation.signatures import (
    load_public_key,
    public_key_from_multibase,
    public_key_to_multibase,
    public_key_to_pem,
)
from models.actors import Actor, ActorKey, ActorKind, KeyAlgorithm
from models.circles import Circle
from models.errors import InvalidInput
from models.media import Media
from models.meetings import Meeting
from models.posts import Post, PostKind
from models.resources import Resource
from models.services import validation
from models.services import remote_polls
from models.services.media import REMOTE_IMAGES_MAX, RemoteImageInput
from models.services.meetings import RemoteMeetingInput
from models.services.remote_polls import RemotePollInput
from models.services.remote import RemoteActorInput, RemoteKey, RemotePostInput
from models.services.tutoring import RemoteNoteInput, RemotePairingInput
from models.tutoring import Pairing, TutoringMessage


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
    }


def person_to_as(actor: Actor, keys: list[ActorKey]) -> dict:
    return {**_actor_common(actor, keys), "featured": f"{actor.uri}/featured"}


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
        "language": [{"identifier": circle.language}] if circle.language else [],
    }


# Hashtags that mark a top-level post's kind, both ways: people on Mastodon
# can ask a circle a question by tagging it #question.
KIND_TAGS = {PostKind.QUESTION: "#question", PostKind.REVIEW: "#peerreview", PostKind.REFLECTION: "#reflection"}


def post_to_as(
    post: Post, *, author: Actor, circle_actor: Actor | None, parent_uri: str | None,
    accepted_answer_uri: str | None = None, value_cycle: str | None = None,
    resource: Resource | None = None, resource_tags: Sequence[str] = (), poll: dict | None = None,
    meeting: Meeting | None = None, media: Sequence[Media] = (),
) -> dict:
    """A post as Page (titled top-level posts, as Lemmy does) or Note (replies
    and untitled posts), addressed publicly and to its circle (FEP-1b12).
    Its kind shows as a hashtag (KIND_TAGS); a shared reflection also
    carries #<value_cycle>value. A library resource (with its tags) is a
    link Page: see `_resource_fields`. `poll` (from federation/polls.py)
    makes it a Question, as Mastodon polls are; a meeting's post is a
    Mobilizon-style Event. Its images are `attachment`s as Mastodon sends
    them. federation/documents.py gathers these keyword arguments for a post."""
    if meeting is not None:
        return meeting_to_as(post, meeting, author=author, circle_actor=circle_actor)
    is_page = parent_uri is None and bool(post.title) and poll is None
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
        body["name"] = post.title
    if post.language:
        body["contentMap"] = {post.language: post.content}
    if post.updated_at:
        body["updated"] = iso(post.updated_at)
    if parent_uri:
        body["inReplyTo"] = parent_uri
    if accepted_answer_uri:
        body["acceptedAnswer"] = accepted_answer_uri
    if post.kind in KIND_TAGS and parent_uri is None:
        where = circle_actor.uri if circle_actor else post.uri
        names = [KIND_TAGS[post.kind]] + ([f"#{value_cycle}value"] if value_cycle else [])
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
        body.update({"name": post.title, **poll})
    return body


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
    return body


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
    return body


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
    elif first is not None:
        body["first"] = first
    return body


def ordered_collection_page(page_id: str, part_of: str, items: list, *, next_page: str | None) -> dict:
    body = {"id": page_id, "type": "OrderedCollectionPage", "partOf": part_of, "orderedItems": items}
    if next_page:
        body["next"] = next_page
    return body


# --- from ActivityStreams (hostile input) --------------------------------------------


class InvalidDocument(ValueError):
    """A remote document we cannot use; the message says why."""


ACTOR_TYPES = {kind.value: kind for kind in ActorKind}
POST_TYPES = {"Note", "Page", "Article", "Question", "Event"}


_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def _url(value, what: str, *, required: bool = True) -> str | None:
    if isinstance(value, dict):
        value = value.get("id") or value.get("href")
    if isinstance(value, list) and value:
        value = value[0] if isinstance(value[0], str) else (value[0] or {}).get("href")
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > 2048 or not value.startswith(("https://", "http://")):
        raise InvalidDocument(f"{what} is not an http(s) URL")
    if _URL_UNSAFE.search(value):  # a line break in a URL would end up in feeds and headers
        raise InvalidDocument(f"{what} contains spaces or control characters")
    return value


def id_of(value) -> str | None:
    """The id of a reference that may be a URL string or an embedded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def host_of(url: str) -> str:
    """host[:port] of a URL, or "" when it has none or is malformed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a non-numeric port, an unclosed IPv6 bracket
        return ""
    return (parts.hostname or "").lower() + (f":{port}" if port else "")


def type_of(obj) -> str | None:
    """An object's type as one string (some servers send a list of types)."""
    if not isinstance(obj, dict):
        return None
    value = obj.get("type")
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _keys_in(doc: dict, owner: str) -> tuple[RemoteKey, ...]:
    keys: list[RemoteKey] = []
    public_keys = doc.get("publicKey")
    for entry in public_keys if isinstance(public_keys, list) else [public_keys]:
        if isinstance(entry, dict) and isinstance(entry.get("publicKeyPem"), str) and isinstance(entry.get("id"), str):
            if entry.get("owner", owner) == owner and host_of(entry["id"]) == host_of(owner):
                try:
                    load_public_key(entry["publicKeyPem"][:10_000])
                except ValueError:
                    continue  # not a key we can use: as if absent
                keys.append(RemoteKey(entry["id"], KeyAlgorithm.RSA, entry["publicKeyPem"][:10_000]))
    methods = doc.get("assertionMethod")
    for entry in methods if isinstance(methods, list) else [methods]:
        if type_of(entry) == "Multikey" and isinstance(entry.get("id"), str):
            if entry.get("controller", owner) != owner or host_of(entry["id"]) != host_of(owner):
                continue
            try:
                key = public_key_from_multibase(str(entry.get("publicKeyMultibase", "")))
            except ValueError:
                continue
            keys.append(RemoteKey(entry["id"], KeyAlgorithm.ED25519, public_key_to_pem(key)))
    return tuple(keys)


def as_to_actor_input(doc: dict, *, fetched_from: str) -> RemoteActorInput:
    """A remote actor document, checked: its id must live on the host we fetched
    it from, and its inbox must be an http(s) URL."""
    uri = _url(doc.get("id"), "the actor id")
    if host_of(uri) != host_of(fetched_from):
        raise InvalidDocument("the actor's id is on another host than the document")
    kind = ACTOR_TYPES.get(type_of(doc) or "")
    if kind is None:
        raise InvalidDocument(f"unsupported actor type {str(doc.get('type'))[:40]!r}")
    username = _text(doc.get("preferredUsername"), 255) or urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1][:255]
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    return RemoteActorInput(
        uri=uri,
        kind=kind,
        username=username or "unknown",
        domain=host_of(uri),
        inbox_url=_url(doc.get("inbox"), "the inbox"),
        display_name=_text(doc.get("name"), 255),
        summary_html=_text(doc.get("summary"), 20_000),
        profile_url=_url(doc.get("url"), "url", required=False) if not isinstance(doc.get("url"), list) else None,
        shared_inbox_url=_url(endpoints.get("sharedInbox"), "the shared inbox", required=False),
        outbox_url=_url(doc.get("outbox"), "the outbox", required=False),
        followers_url=_url(doc.get("followers"), "followers", required=False),
        following_url=_url(doc.get("following"), "following", required=False),
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        keys=_keys_in(doc, uri),
        avatar_url=avatar_url(doc.get("icon")),
    )


AVATAR_URL_MAX = 2048


def avatar_url(icon) -> str | None:
    """An actor's `icon` (an Image, a list of them, or a bare URL) as a URL a
    browser may load: http(s) only, no credentials, and no private or loopback
    address (we never fetch it; this keeps viewers' browsers off local
    networks too). None when there is no such URL."""
    if isinstance(icon, list):
        icon = next((i for i in icon if isinstance(i, (dict, str))), None)
    if isinstance(icon, dict):
        icon = icon.get("url")
        if isinstance(icon, list):
            icon = next((i for i in icon if isinstance(i, (dict, str))), None)
        if isinstance(icon, dict):
            icon = icon.get("href")
    if not isinstance(icon, str) or len(icon) > AVATAR_URL_MAX:
        return None
    try:
        parts = urlsplit(icon.strip())
        host = parts.hostname or ""
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc or not icon.isprintable():
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return None
    try:
        if not ipaddress.ip_address(host).is_global:
            return None
    except ValueError:
        pass  # a host name, not an address literal
    return icon.strip()


def _addressees(obj: dict) -> set[str]:
    found: set[str] = set()
    for field_name in ("to", "cc", "audience", "bto", "bcc"):
        value = obj.get(field_name)
        for entry in value if isinstance(value, list) else [value]:
            ref = id_of(entry)
            if ref:
                found.add(ref)
    return found


def _is_public(obj: dict) -> bool:
    """Addressed to the Public collection (Mastodon's public and unlisted), or
    not addressed at all (only an `audience`), which no server uses for a
    private message. Followers-only and direct posts are not public."""
    addressed = {id_of(entry) for field_name in ("to", "cc", "bto", "bcc") for entry in as_list(obj.get(field_name))}
    addressed.discard(None)
    return not addressed or bool(addressed & vocab.PUBLIC_ALIASES)


def _content_of(obj: dict) -> tuple[str, str]:
    """An object's HTML content (from its contentMap when `content` is missing)
    and the language its contentMap names ("" when none or malformed)."""
    content = _text(obj.get("content"), 100_000)
    content_map = obj.get("contentMap")
    language = ""
    if isinstance(content_map, dict) and content_map:
        language, mapped = next(iter(content_map.items()))
        content = content or _text(mapped, 100_000)
        language = language if isinstance(language, str) and len(language) <= 16 else ""
    return content, language


def as_to_post_input(obj: dict, *, local_circle_uris: set[str]) -> RemotePostInput:
    """A remote Note/Page/Article/Question/Event, checked. `local_circle_uris`
    are the ids of our circles it might be addressed to."""
    uri = _url(obj.get("id"), "the object id")
    if type_of(obj) not in POST_TYPES:
        return _link_post(obj, uri, local_circle_uris)
    author = _author_of(obj)
    _require_same_host(author, uri)
    content, language = _content_of(obj)
    if not content and isinstance(obj.get("name"), str) and type_of(obj) == "Note":
        content = f"<p>{html.escape(obj['name'][:500])}</p>"  # e.g. lotide's titled image posts
    circles = sorted(_addressees(obj) & local_circle_uris)
    published = _datetime(obj.get("published"))
    meeting = as_to_meeting_input(obj) if type_of(obj) == "Event" else None
    return RemotePostInput(
        uri=uri,
        public=_is_public(obj),
        author_uri=author,
        content_html=content + _attachment_links(obj),
        images=_images_in(obj),
        title=_text(obj.get("name"), 200) if type_of(obj) != "Note" else "",
        url=_url(obj.get("url"), "url", required=False) if isinstance(obj.get("url"), str) else None,
        in_reply_to_uri=id_of(obj.get("inReplyTo")),
        circle_uri=circles[0] if circles else None,
        language=language,
        published_at=published,
        accepted_answer_uri=_lenient_url(obj.get("acceptedAnswer")),
        names_accepted_answer="acceptedAnswer" in obj,
        kind=PostKind.MEETING if meeting else _kind_of(obj),
        meeting=meeting,
        poll=_poll_in(obj),
        **_shared_link(obj),
    )


EVENT_LONGEST = dt.timedelta(days=31)


def as_to_meeting_input(obj: dict) -> RemoteMeetingInput | None:
    """When and where of a remote Event (Mobilizon's shape), or None when it
    has no usable start time (then it is kept as a plain post)."""
    starts_at = _datetime(obj.get("startTime"))
    if starts_at is None:
        return None
    ends_at = _datetime(obj.get("endTime")) or starts_at + dt.timedelta(hours=1)
    ends_at = min(max(ends_at, starts_at), starts_at + EVENT_LONGEST)
    try:
        zone = validation.timezone(_text(obj.get("timezone"), 64))
    except InvalidInput:
        zone = "UTC"
    location = obj.get("location")
    place = _text(location.get("name"), 200) if isinstance(location, dict) else _text(location, 200)
    online_url = None
    for item in as_list(obj.get("attachment"))[:10]:
        if isinstance(item, dict) and type_of(item) == "Link":
            try:
                online_url = _url(item.get("href"), "the online link")
                break
            except InvalidDocument:
                continue
    return RemoteMeetingInput(
        starts_at=starts_at, ends_at=ends_at, timezone=zone, place=place, online_url=online_url,
        cancelled=obj.get("ical:status") == "CANCELLED",
    )


MAX_TAGS_READ = 50  # Hashtags looked at on one object


def _shared_link(obj: dict) -> dict:
    """A titled top-level Page/Article that shares a web page (Lemmy's
    `attachment` Link, not an image): its link and Hashtag names."""
    if type_of(obj) not in ("Page", "Article") or obj.get("inReplyTo") or not obj.get("name"):
        return {}
    for item in as_list(obj.get("attachment"))[:10]:
        media_type = item.get("mediaType") if isinstance(item, dict) else None
        if type_of(item) != "Link" or (isinstance(media_type, str) and media_type.startswith(("image/", "video/", "audio/"))):
            continue
        try:
            link = _url(item.get("href"), "link")
        except InvalidDocument:
            continue
        tags = [
            t["name"][:100] for t in as_list(obj.get("tag"))[:MAX_TAGS_READ]
            if type_of(t) == "Hashtag" and isinstance(t.get("name"), str)
        ]
        return {"link": link, "tags": tuple(tags)}
    return {}


def _poll_in(obj: dict) -> RemotePollInput | None:
    """The options of a Question (Mastodon's oneOf / anyOf), or None."""
    if type_of(obj) != "Question":
        return None
    choices = obj.get("oneOf") or obj.get("anyOf")
    names = [
        choice["name"].strip() for choice in as_list(choices)[:remote_polls.MAX_OPTIONS]
        if isinstance(choice, dict) and isinstance(choice.get("name"), str) and choice["name"].strip()
    ]
    if not names:
        return None
    closed = obj.get("closed")
    closed_at = _datetime(closed) if isinstance(closed, str) else None
    if closed is True:
        closed_at = _datetime(obj.get("endTime")) or _datetime(obj.get("updated"))
    return RemotePollInput(options=tuple(dict.fromkeys(names)), closes_at=_datetime(obj.get("endTime")),
                           closed_at=closed_at)


def _kind_of(obj: dict) -> PostKind:
    """A top-level post's kind from its hashtags (KIND_TAGS); naming an
    accepted answer makes it a question."""
    if obj.get("inReplyTo"):
        return PostKind.DISCUSSION
    if obj.get("acceptedAnswer"):
        return PostKind.QUESTION
    tags = {
        tag["name"].lower() for tag in as_list(obj.get("tag"))[:MAX_TAGS_READ]
        if type_of(tag) == "Hashtag" and isinstance(tag.get("name"), str)
    }
    return next((kind for kind, tag in KIND_TAGS.items() if tag in tags), PostKind.DISCUSSION)


def _lenient_url(value) -> str | None:
    """An optional reference that, when malformed, is as if absent (the rest
    of the object is still good)."""
    try:
        return _url(id_of(value), "reference", required=False)
    except InvalidDocument:
        return None


def _require_same_host(author: str, object_id: str) -> None:
    # Whoever serves an object vouches only for its own users: an object on
    # one server attributed to someone on another is a forgery.
    if host_of(author) != host_of(object_id):
        raise InvalidDocument("the object's author is on another host than the object")


def _author_of(obj: dict) -> str:
    """The author's id. PeerTube lists a Person and a channel Group: the first
    Person wins, else the first entry."""
    value = obj.get("attributedTo")
    if isinstance(value, list):
        people = [id_of(a) for a in value if isinstance(a, dict) and a.get("type") == "Person"]
        value = next((a for a in people + [id_of(a) for a in value] if a), None)
    return _url(id_of(value), "attributedTo")


def _image_in(item) -> RemoteImageInput | None:
    """An attachment that is an image (Mastodon's and Pixelfed's Document or
    Image with an image/* mediaType, Lemmy's Image), or None. Only its
    address is kept: readers' browsers load it, we never fetch it."""
    if type_of(item) not in ("Image", "Document"):
        return None
    media_type = item.get("mediaType")
    if isinstance(media_type, str) and not media_type.startswith("image/"):
        return None
    if type_of(item) == "Document" and not isinstance(media_type, str):
        return None  # a document of unknown type stays a link
    url = item.get("url") if item.get("url") is not None else item.get("href")
    if isinstance(url, list):  # several Links: the first image one
        url = next((u for u in url if isinstance(u, str) or (
            isinstance(u, dict) and str(u.get("mediaType") or "image/").startswith("image/"))), None)
    try:
        url = _url(url, "image")
    except InvalidDocument:
        return None
    return RemoteImageInput(
        url=url,
        media_type=media_type[:100] if isinstance(media_type, str) else "image/*",
        alt=" ".join(_text(item.get("name") or item.get("summary"), 1500).split()),
        width=_dimension(item.get("width")),
        height=_dimension(item.get("height")),
    )


def _dimension(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 20_000 else None


def _images_in(obj: dict) -> tuple[RemoteImageInput, ...]:
    found = (_image_in(item) for item in as_list(obj.get("attachment"))[:10])
    return tuple(image for image in found if image is not None)[:REMOTE_IMAGES_MAX]


def _attachment_links(obj: dict) -> str:
    """Attachments other than images (those are `images`, see _image_in) as
    links: we keep no remote media. A link the content already shows is not repeated."""
    links = []
    content = _text(obj.get("content"), 100_000)
    for item in as_list(obj.get("attachment"))[:10]:
        if isinstance(item, dict) and item.get("type") != "PropertyValue" and _image_in(item) is None:
            try:
                href = _url(item.get("url") or item.get("href"), "attachment")
            except InvalidDocument:
                continue
            if f'href="{html.escape(href)}"' in content:
                continue
            label = html.escape(_text(item.get("name"), 200) or href)
            links.append(f'<p><a href="{html.escape(href)}">{label}</a></p>')
    return "".join(links)


def as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _link_post(obj: dict, uri: str, local_circle_uris: set[str]) -> RemotePostInput:
    """An object of a type we do not model (Video, Audio, Image, …): kept as a
    post that links to it, so the conversation around it still works."""
    if type_of(obj) is None:
        raise InvalidDocument("the object has no type")
    author = _author_of(obj)
    _require_same_host(author, uri)
    target = _url(obj.get("url"), "url", required=False) if not isinstance(obj.get("url"), list) else None
    title = _text(obj.get("name"), 200)
    label = html.escape(title or target or uri)
    summary = _text(obj.get("summary") or obj.get("content"), 20_000)
    circles = sorted(_addressees(obj) & local_circle_uris)
    return RemotePostInput(
        uri=uri, author_uri=author, title=title, url=target, public=_is_public(obj),
        content_html=f'<p><a href="{html.escape(target or uri)}">{label}</a></p>{summary}',
        in_reply_to_uri=id_of(obj.get("inReplyTo")), circle_uri=circles[0] if circles else None,
        published_at=_datetime(obj.get("published")),
    )


def _datetime(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not 1970 <= moment.year <= 2200:  # later ones overflow when a duration is added
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


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


def _pairing_term(value) -> RemotePairingInput | None:
    if not isinstance(value, dict):
        return None
    try:
        return RemotePairingInput(
            circle_uri=_url(value.get("circle"), "tutoring.circle"), skill=_text(value.get("skill"), 100),
            helper_uri=_url(value.get("helper"), "tutoring.helper"),
            learner_uri=_url(value.get("learner"), "tutoring.learner"),
            closed=value.get("closed") is True,
        )
    except InvalidDocument:
        return None


def as_to_note_input(obj: dict, *, sender: Actor) -> RemoteNoteInput:
    """A remote Note as a possibly direct message: who it is addressed to and
    whether that is only people (no Public, no followers collection)."""
    uri = _url(obj.get("id"), "the object id")
    if _author_of(obj) != sender.uri:
        raise InvalidDocument("the Note's author is not the activity's actor")
    _require_same_host(sender.uri, uri)
    addressees = _addressees(obj)
    public = bool(addressees & vocab.PUBLIC_ALIASES)
    followers = any(a == sender.followers_url or a.endswith("/followers") for a in addressees)
    content, _language = _content_of(obj)
    return RemoteNoteInput(
        uri=uri, content_html=content + _attachment_links(obj), in_reply_to_uri=id_of(obj.get("inReplyTo")),
        addressees=frozenset(addressees), direct=not public and not followers,
        pairing=_pairing_term(obj.get("tutoring")) if type_of(obj) == "Note" else None,
    )
