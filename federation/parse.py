"""From ActivityStreams to typed inputs: remote documents are hostile, so
every reader here checks what it takes and raises InvalidDocument (with the
reason) for what it cannot use. Named by direction (`as_to_post_input`, ...);
the other direction is federation/convert.py."""

from __future__ import annotations

import datetime as dt
import functools
import html
import ipaddress
import re
from urllib.parse import urlsplit

from federation import vocab
from federation.addresses import AddressPolicy
from federation.signatures import load_public_key, public_key_from_multibase, public_key_to_pem
from models.actors import Actor, ActorKind, KeyAlgorithm
from models.errors import InvalidInput
from models.posts import PostKind
from models.services import remote_polls, validation
from models.text import plain_lines, plain_name
from models.services.media import REMOTE_IMAGES_MAX, RemoteImageInput
from models.services.meetings import RemoteMeetingInput
from models.services.remote import RemoteActorInput, RemoteKey, RemotePostInput
from models.services.remote_polls import RemotePollInput
from models.services.tutoring import RemoteNoteInput, RemotePairingInput


class InvalidDocument(ValueError):
    """A remote document we cannot use; the message says why."""


ACTOR_TYPES = {kind.value: kind for kind in ActorKind}
POST_TYPES = {"Note", "Page", "Article", "Question", "Event"}


_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def _url(value, what: str, *, required: bool = True) -> str | None:
    if isinstance(value, dict):
        value = value.get("id") or value.get("href")
    if isinstance(value, list) and value:
        first = value[0]
        value = first if isinstance(first, str) else first.get("href") if isinstance(first, dict) else None
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


@functools.lru_cache(maxsize=4096)  # a fan-out asks it of the same inboxes many times
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


def _name(value, limit: int) -> str:
    """A remote name or title, without invisible and control characters."""
    return plain_name(_text(value, limit * 2))[:limit]


# Mastodon stores a remote account only if its preferredUsername matches this
# (app/models/account.rb: USERNAME_RE, and `validates :username, format:` for
# remote accounts); Lemmy's names are narrower still. Anything else (homoglyphs,
# zero-width or bidi characters, spaces) could pass for another person's handle.
REMOTE_USERNAME_RE = re.compile(r"[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?", re.IGNORECASE | re.ASCII)


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


def as_to_actor_input(doc: dict, *, fetched_from: str, addresses: AddressPolicy | None = None) -> RemoteActorInput:
    """A remote actor document, checked: its id must live on the host we fetched
    it from, and its inbox must be an http(s) URL. `addresses`: the private
    addresses this server may reach, whose pictures it may show too."""
    uri = _url(doc.get("id"), "the actor id")
    if host_of(uri) != host_of(fetched_from):
        raise InvalidDocument("the actor's id is on another host than the document")
    kind = ACTOR_TYPES.get(type_of(doc) or "")
    if kind is None:
        raise InvalidDocument(f"unsupported actor type {str(doc.get('type'))[:40]!r}")
    username = _text(doc.get("preferredUsername"), 255) or urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1][:255]
    # An instance actor's name is its domain, port and all (ours is, in development).
    if kind is not ActorKind.APPLICATION and not REMOTE_USERNAME_RE.fullmatch(username):
        raise InvalidDocument("the actor's preferredUsername is not a handle (letters a-z, digits, _ . -)")
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    return RemoteActorInput(
        uri=uri,
        kind=kind,
        username=username,
        domain=host_of(uri),
        inbox_url=_url(doc.get("inbox"), "the inbox"),
        display_name=_name(doc.get("name"), 255),
        summary_html=_text(doc.get("summary"), 20_000),
        profile_url=_url(doc.get("url"), "url", required=False) if not isinstance(doc.get("url"), list) else None,
        shared_inbox_url=_url(endpoints.get("sharedInbox"), "the shared inbox", required=False),
        outbox_url=_url(doc.get("outbox"), "the outbox", required=False),
        followers_url=_url(doc.get("followers"), "followers", required=False),
        following_url=_url(doc.get("following"), "following", required=False),
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        keys=_keys_in(doc, uri),
        avatar_url=avatar_url(doc.get("icon"), addresses),
    )


AVATAR_URL_MAX = 2048


def avatar_url(icon, addresses: AddressPolicy | None = None) -> str | None:
    """An actor's `icon` (an Image, a list of them, or a bare URL) as a URL a
    browser may load: http(s) only, no credentials, and no private or loopback
    address (we never fetch it; this keeps viewers' browsers off local
    networks too) unless `addresses` lets this server reach that one (as on a
    test network). None when there is no such URL."""
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
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # not a URL, or its port is not a number
        return None
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc or not icon.isprintable():
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return icon.strip()  # a host name, not an address literal
    if not address.is_global and not (addresses is not None and addresses.allows(address, port)):
        return None
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


def _mentioned(obj: dict) -> set[str]:
    """The actors a post's Mention tags name. Mastodon also puts them in `cc`;
    Fedify and some others only tag them."""
    return {
        tag["href"] for tag in as_list(obj.get("tag"))[:MAX_TAGS_READ]
        if type_of(tag) == "Mention" and isinstance(tag.get("href"), str)
    }


def circle_candidates(obj: dict) -> set[str]:
    """Who a post might be written to, as circles read it: whom it addresses
    and whom it mentions (a public post that only tags @circle is for the
    circle too)."""
    return _addressees(obj) | _mentioned(obj)


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


def _title_and_content(obj: dict, content: str) -> tuple[str, str]:
    """A post's title (Notes have none) and content, without the copies of
    the title that servers add for readers who show one and not the other:
    a Question's bold first line (Mastodon shows no `name`), and a name that
    is only the start of the text (Lemmy 1.0 needs every post named, so
    untitled posts are named from their first line; federation/convert.py)."""
    title = _name(obj.get("name"), 200) if type_of(obj) != "Note" else ""
    if not title:
        return "", content
    if type_of(obj) == "Question":
        return title, content.removeprefix(f"<p><strong>{html.escape(title, quote=False)}</strong></p>")
    first = next(iter(plain_lines(content)), "")
    if title == first or (title.endswith("…") and first.startswith(title[:-1])):
        return "", content
    return title, content


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
    circles = sorted(circle_candidates(obj) & local_circle_uris)
    published = _datetime(obj.get("published"))
    meeting = as_to_meeting_input(obj) if type_of(obj) == "Event" else None
    title, content = _title_and_content(obj, content)
    return RemotePostInput(
        uri=uri,
        public=_is_public(obj),
        author_uri=author,
        content_html=content + _attachment_links(obj),
        images=_images_in(obj),
        title=title,
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
        mentions=tuple(sorted(_mentioned(obj) - {uri}))[:MAX_MENTIONS],
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
    place = _name(location.get("name"), 200) if isinstance(location, dict) else _name(location, 200)
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
MAX_MENTIONS = 20  # people a post's Mention tags name, kept (to tell those here)


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
    """A top-level post's kind from its hashtags (vocab.KIND_TAGS); naming an
    accepted answer makes it a question."""
    if obj.get("inReplyTo"):
        return PostKind.DISCUSSION
    if obj.get("acceptedAnswer"):
        return PostKind.QUESTION
    tags = {
        tag["name"].lower() for tag in as_list(obj.get("tag"))[:MAX_TAGS_READ]
        if type_of(tag) == "Hashtag" and isinstance(tag.get("name"), str)
    }
    return next((kind for kind, tag in vocab.KIND_TAGS.items() if tag in tags), PostKind.DISCUSSION)


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
    title = _name(obj.get("name"), 200)
    label = html.escape(title or target or uri)
    summary = _text(obj.get("summary") or obj.get("content"), 20_000)
    circles = sorted(circle_candidates(obj) & local_circle_uris)
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


def _pairing_term(value) -> RemotePairingInput | None:
    if not isinstance(value, dict):
        return None
    try:
        return RemotePairingInput(
            circle_uri=_url(value.get("circle"), "tutoring.circle"), skill=_name(value.get("skill"), 100),
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
