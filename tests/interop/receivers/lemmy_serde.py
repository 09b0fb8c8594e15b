"""How Lemmy's serde structs read what it receives and fetches, as far as
Circles' documents touch them: each `parse_*` takes a JSON object as its
struct would, or raises `Unparsable` with the field and the citation; the
field readers below them (URLs, one or many, strings, dates, LanguageTag,
attachments); what Lemmy reads off a parsed Page or Group (its creator, its
visibility); and the html to text Lemmy makes a title of.

Citations as in `lemmy`: `0.19.20 x` is crates/apub/src/x in 0.19.20,
`main x` is under crates/ in main, "apf" is activitypub-federation. The
server (`lemmy`) sets `MAIN_SERDE` while a 1.0 server parses.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from html.parser import HTMLParser
from urllib.parse import urlsplit

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PAGE_TYPES = ("Page", "Article", "Note", "Video", "Event")  # 0.19.20 protocol/objects/page.rs:36-43
PERSON_TYPES = ("Person", "Service", "Organization")  # 0.19.20 protocol/objects/person.rs:14-19
# Whether serde reads as 1.0's library does (set while a 1.0 server parses).
MAIN_SERDE: ContextVar[bool] = ContextVar("main_serde", default=False)


class Rejected(Exception):
    """The activity or document is refused, with the rule's citation."""


class Unparsable(Rejected):
    """serde could not read it as that struct."""


# --- serde: the structs, as far as Circles' documents touch them -----------------------------


def parse_accept(doc: dict) -> dict:
    """AcceptFollow (0.19.20 protocol/activities/following/accept.rs:13-24)."""
    require_type(doc, "Accept", "AcceptFollow")
    follow = doc.get("object")
    if not isinstance(follow, dict):
        raise Unparsable("AcceptFollow.object must be an embedded Follow (accept.rs:20)")
    require_type(follow, "Follow", "Follow")  # 0.19.20 protocol/activities/following/follow.rs:10-21
    parsed = {"id": as_url(doc.get("id"), "id"), "actor": as_url(doc.get("actor"), "actor"),
              "object": {"id": as_url(follow.get("id"), "Follow.id"),
                         "actor": as_url(follow.get("actor"), "Follow.actor"),
                         "object": as_url(follow.get("object"), "Follow.object")}}
    to = doc.get("to")  # skip_error: a malformed `to` is dropped (accept.rs:18-19)
    parsed["to"] = to if isinstance(to, list) and len(to) == 1 and isinstance(to[0], str) else (
        [to] if isinstance(to, str) else None)
    return parsed


def parse_announce(doc: dict) -> dict:
    """AnnounceActivity: to and cc required (0.19.20 protocol/activities/community/announce.rs:11-23)."""
    require_type(doc, "Announce", "AnnounceActivity")
    obj = doc.get("object")
    if not isinstance(obj, str):
        raw_announcable(obj)
    return {"id": as_url(doc.get("id"), "id"), "actor": as_url(doc.get("actor"), "actor"),
            "to": _one_or_many(doc, "to", required=True), "cc": _one_or_many(doc, "cc", required=True),
            "object": obj if isinstance(obj, str) else obj}


def raw_announcable(obj) -> None:
    """RawAnnouncableActivities: an id and an actor (announce.rs:27-33)."""
    if not isinstance(obj, dict):
        raise Unparsable("the announced object is neither a URL nor an activity")
    as_url(obj.get("id"), "RawAnnouncableActivities.id")
    as_url(obj.get("actor"), "RawAnnouncableActivities.actor (a bare object has none)")


def _parse_create_or_update(doc: dict, what: str) -> dict:
    if doc.get("type") not in ("Create", "Update"):
        raise Unparsable(f"{what}.type is {doc.get('type')}")
    return {"id": as_url(doc.get("id"), "id"), "actor": as_url(doc.get("actor"), "actor"), "type": doc["type"],
            "to": _one_or_many(doc, "to", required=True), "cc": _one_or_many(doc, "cc", required=True),
            "audience": as_url(doc["audience"], "audience") if doc.get("audience") is not None else None}


def parse_create_or_update_page(doc: dict) -> dict:
    """CreateOrUpdatePage (0.19.20 protocol/activities/create_or_update/page.rs:16-29)."""
    parsed = _parse_create_or_update(doc, "CreateOrUpdatePage")
    parsed["object"] = parse_page(doc.get("object"))
    return parsed


def parse_create_or_update_note(doc: dict) -> dict:
    """CreateOrUpdateNote (0.19.20 protocol/activities/create_or_update/note.rs:18-33)."""
    parsed = _parse_create_or_update(doc, "CreateOrUpdateNote")
    parsed["object"] = parse_note(doc.get("object"))
    return parsed


def parse_note_wrapper(doc: dict) -> dict:
    """main activities/src/protocol/create_or_update/note_wrapper.rs:7-34: object.type Note or ChatMessage."""
    obj = doc.get("object")
    if not isinstance(obj, dict) or obj.get("type") not in ("Note", "ChatMessage"):
        raise Unparsable("CreateOrUpdateNoteWrapper: object.type is not Note or ChatMessage")
    as_url(doc.get("id"), "id"), as_url(doc.get("actor"), "actor")
    return doc


def parse_page(obj) -> dict:
    """Page (0.19.20 protocol/objects/page.rs:45-78)."""
    if not isinstance(obj, dict):
        raise Unparsable("Page: not an object")
    if obj.get("type") not in PAGE_TYPES:
        raise Unparsable(f"Page.type {obj.get('type')!r} is none of {PAGE_TYPES} (page.rs:36-43)")
    if obj.get("inReplyTo") is not None:
        raise Unparsable("Post must not have inReplyTo property (page.rs:55-57,265-275)")
    page = {"id": as_url(obj.get("id"), "Page.id"), "type": obj["type"],
            "attributedTo": _attributed_to(obj.get("attributedTo")),
            "to": _one_or_many(obj, "to"), "cc": _one_or_many(obj, "cc"),
            "name": _opt_str(obj, "name"), "content": _opt_str(obj, "content"),
            "mediaType": _media_type(obj, ("text/markdown", "text/html")),
            "source": _source(obj.get("source")), "attachment": _attachments(obj.get("attachment")),
            "audience": as_url(obj["audience"], "Page.audience") if obj.get("audience") is not None else None}
    if obj.get("image") is not None:
        _image(obj["image"], "Page.image (page.rs:70)")
    _opt_bool(obj, "sensitive")
    _opt_date(obj, "published"), _opt_date(obj, "updated")
    if obj.get("language") is not None:
        _language_tag(obj["language"], "Page.language (page.rs:74)")
    return page


def parse_note(obj) -> dict:
    """Note (0.19.20 protocol/objects/note.rs:33-60)."""
    if not isinstance(obj, dict) or obj.get("type") != "Note":
        raise Unparsable(f"Note.type is {type_of(obj)!r}")
    note = {"id": as_url(obj.get("id"), "Note.id"),
            "attributedTo": as_url(obj.get("attributedTo"), "Note.attributedTo"),
            "to": _one_or_many(obj, "to", required=True), "cc": _one_or_many(obj, "cc"),
            "content": _str(obj.get("content"), "Note.content"),
            "inReplyTo": as_url(obj.get("inReplyTo"), "Note.inReplyTo"),
            "mediaType": _media_type(obj, ("text/markdown", "text/html")), "source": _source(obj.get("source")),
            "audience": as_url(obj["audience"], "Note.audience") if obj.get("audience") is not None else None}
    _opt_date(obj, "published"), _opt_date(obj, "updated"), _opt_bool(obj, "distinguished")
    if obj.get("language") is not None:
        _language_tag(obj["language"], "Note.language (note.rs:56)")
    _attachments(obj.get("attachment"))
    return note


def parse_delete(doc: dict) -> dict:
    """Delete (0.19.20 protocol/activities/deletion/delete.rs:23-46): a URL or
    a Tombstone object; `summary` makes it a removal."""
    require_type(doc, "Delete", "Delete")
    obj = doc.get("object")
    if isinstance(obj, dict):
        require_type(obj, "Tombstone", "Tombstone (protocol/objects/tombstone.rs:7-14)")
    object_id = as_url(obj if isinstance(obj, str) else (obj or {}).get("id"), "Delete.object")
    summary = doc.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise Unparsable("Delete.summary is not a string")
    return {"id": as_url(doc.get("id"), "id"), "actor": as_url(doc.get("actor"), "actor"), "object_id": object_id,
            "to": _one_or_many(doc, "to", required=True), "cc": _one_or_many(doc, "cc"), "summary": summary,
            "audience": as_url(doc["audience"], "audience") if doc.get("audience") is not None else None}


def parse_group(doc: dict, *, main: bool) -> dict:
    """Group: the required fields and the typed optional ones (0.19.20
    protocol/objects/group.rs:37-73; main objects/src/protocol/group.rs:21-67)."""
    require_type(doc, "Group", "Group")
    group = {"id": as_url(doc.get("id"), "Group.id"),
             "preferredUsername": _str(doc.get("preferredUsername"), "Group.preferredUsername"),
             "inbox": as_url(doc.get("inbox"), "Group.inbox"), "outbox": as_url(doc.get("outbox"), "Group.outbox"),
             "followers": _opt_url(doc, "followers"), "featured": _opt_url(doc, "featured"),
             "name": _opt_str(doc, "name"), "attributedTo": doc.get("attributedTo")}
    _public_key(doc.get("publicKey"), "Group")
    _opt_str(doc, "summary"), _opt_bool(doc, "sensitive"), _opt_bool(doc, "postingRestrictedToMods")
    _opt_date(doc, "published"), _opt_date(doc, "updated")
    if doc.get("endpoints") is not None:  # Endpoints { sharedInbox: Url } (0.19.20 protocol/objects/mod.rs:26-30)
        if not isinstance(doc["endpoints"], dict):
            raise Unparsable("Group.endpoints is not an object")
        group["endpoints"] = {"sharedInbox": as_url(doc["endpoints"].get("sharedInbox"), "Group.endpoints.sharedInbox")}
    for tag in as_list(doc.get("language", []), "Group.language"):  # no skip_error (group.rs:69-70)
        _language_tag(tag, "Group.language[]")
    if main:
        _opt_str(doc, "description"), _opt_bool(doc, "manuallyApprovesFollowers"), _opt_bool(doc, "discoverable")
        group["manuallyApprovesFollowers"] = doc.get("manuallyApprovesFollowers")
        group["discoverable"] = doc.get("discoverable")
        _media_type(doc, ("text/html",))  # main group.rs:40
        for name in ("icon", "image"):  # deserialize_last (apf 0.7.0-beta.11 src/protocol/helpers.rs:144-163)
            value = doc.get(name)
            if isinstance(value, list):
                value = value[-1] if value else None
            if value is not None:
                _image(value, f"Group.{name} (main group.rs:43-47)")
    return group


def parse_person(doc: dict, url: str) -> str:
    """Person (0.19.20 protocol/objects/person.rs:21-50): its type, one of PERSON_TYPES."""
    if doc.get("type") not in PERSON_TYPES:
        raise Unparsable(f"{url} is a {doc.get('type')}, not a Person "
                         "(0.19.20 protocol/objects/person.rs:14-19)")
    for name in ("preferredUsername",):
        _str(doc.get(name), f"Person.{name}")
    as_url(doc.get("inbox"), "Person.inbox")
    as_url(doc.get("outbox"), "Person.outbox (person.rs:32)")
    _public_key(doc.get("publicKey"), "Person")
    return doc["type"]


def community_visibility(group: dict) -> str:
    """main objects/src/utils/functions.rs:274-282."""
    if group.get("manuallyApprovesFollowers"):
        return "Private"
    if group.get("discoverable") is False:
        return "Unlisted"
    return "Public"


def _attributed_to(value):
    """AttributedTo: one Person URL, or Peertube's [{type, id}] (0.19.20 protocol/objects/mod.rs:130-135)."""
    if isinstance(value, str):
        return as_url(value, "attributedTo")
    if isinstance(value, list) and value and all(
            isinstance(v, dict) and v.get("type") in ("Person", "Group") for v in value):
        return [{"type": v["type"], "id": as_url(v.get("id"), "attributedTo[].id")} for v in value]
    raise Unparsable(f"attributedTo {value!r} is neither a URL nor Peertube's list (page.rs:52)")


def creator(page: dict) -> str:
    """0.19.20 page.rs:172-182."""
    if isinstance(page["attributedTo"], str):
        return page["attributedTo"]
    person = next((a["id"] for a in page["attributedTo"] if a["type"] == "Person"), None)
    if person is None:
        raise Rejected("PageDoesNotSpecifyCreator (page.rs:180)")
    return person


def _attachments(value) -> list[dict]:
    """`attachment`: each a Link{href}, an Image{url} or a Document{url}, no
    skip_error: one other item fails the whole object (0.19.20 page.rs:66-115)."""
    items = as_list(value if value is not None else [], "attachment")
    for item in items:
        if not isinstance(item, dict):
            raise Unparsable(f"attachment item {item!r} is not an object")
        kind = item.get("type")
        if kind == "Link":
            as_url(item.get("href"), "attachment Link.href")
        elif kind in ("Image", "Document"):
            as_url(item.get("url"), f"attachment {kind}.url")
        else:
            raise Unparsable(f"attachment of type {kind!r} is not Link, Image or Document (page.rs:109-115)")
    return items


def _language_tag(value, what: str) -> None:
    """LanguageTag { identifier, name }, both required (0.19.20 protocol/objects/mod.rs:33-38)."""
    if not (isinstance(value, dict) and isinstance(value.get("identifier"), str)
            and isinstance(value.get("name"), str)):
        raise Unparsable(f"{what}: a LanguageTag needs `identifier` and `name`: {value!r}")


def _image(value, what: str) -> None:
    """ImageObject { type: Image, url } (0.19.20 protocol/mod.rs:35-41)."""
    if not isinstance(value, dict) or value.get("type") != "Image":
        raise Unparsable(f"{what}: not an Image object: {value!r}")
    as_url(value.get("url"), f"{what}.url")


def _source(value):
    """Source { content, mediaType: text/markdown }, skip_error (0.19.20 protocol/mod.rs:18-24)."""
    if isinstance(value, dict) and isinstance(value.get("content"), str) and value.get("mediaType") == "text/markdown":
        return value
    return None


def _public_key(value, what: str) -> None:
    """apf src/protocol/public_key.rs:9-18: id, owner, publicKeyPem all required."""
    if not isinstance(value, dict):
        raise Unparsable(f"{what}.publicKey is missing")
    _str(value.get("id"), f"{what}.publicKey.id"), as_url(value.get("owner"), f"{what}.publicKey.owner")
    _str(value.get("publicKeyPem"), f"{what}.publicKey.publicKeyPem")


def merge(left: list[str], right: list[str]) -> list[str]:
    """itertools' merge: the smaller head first, the left one on ties (page.rs:236)."""
    out, i, j = [], 0, 0
    while i < len(left) or j < len(right):
        if j >= len(right) or (i < len(left) and left[i] <= right[j]):
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out


def _one_or_many(doc: dict, name: str, *, required: bool = False) -> list[str]:
    """deserialize_one_or_many (apf 0.5.11 src/protocol/helpers.rs:29-46): a URL
    or a list of URLs; without `default` the field is required. 1.0 (apf
    0.7.0-beta.11 src/protocol/helpers.rs:42-70) reads "Public" and
    "as:Public" as the public IRI; 0.19 reads "as:Public" as a URL of its
    own, which is not the public IRI (activities/mod.rs:127-133)."""
    value = doc.get(name)
    if value is None:
        if required:
            raise Unparsable(f"missing field `{name}`")
        return []
    values = value if isinstance(value, list) else [value]
    if MAIN_SERDE.get():
        values = [PUBLIC if v in ("Public", "as:Public") else v for v in values]
    return list(dict.fromkeys(as_url(v, name) for v in values))


def as_url(value, what: str) -> str:
    """url::Url: an absolute URL ("as:Public" is one, with scheme "as")."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*", parts.scheme or "") or (
            parts.scheme in ("http", "https") and not parts.netloc):
        raise Unparsable(f"{what}: {value!r} is not a URL")
    return value


def _opt_url(doc: dict, name: str) -> str | None:
    return None if doc.get(name) is None else as_url(doc[name], name)


def _str(value, what: str) -> str:
    if not isinstance(value, str):
        raise Unparsable(f"{what}: {value!r} is not a string")
    return value


def _opt_str(doc: dict, name: str) -> str | None:
    return None if doc.get(name) is None else _str(doc[name], name)


def _opt_bool(doc: dict, name: str) -> None:
    if doc.get(name) is not None and not isinstance(doc[name], bool):
        raise Unparsable(f"{name}: {doc[name]!r} is not a boolean")


def _opt_date(doc: dict, name: str) -> None:
    value = doc.get(name)
    if value is not None and not (isinstance(value, str) and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value)):
        raise Unparsable(f"{name}: {value!r} is not an RFC 3339 date-time")


def _media_type(doc: dict, allowed: tuple[str, ...]):
    """MediaTypeMarkdownOrHtml / MediaTypeHtml (apf src/protocol/values.rs)."""
    value = doc.get("mediaType")
    if value is not None and value not in allowed:
        raise Unparsable(f"mediaType {value!r} is none of {allowed}")
    return value


def as_i32(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unparsable(f"missing or non-integer `{what}`")
    return value


def as_list(value, what: str) -> list:
    if not isinstance(value, list):
        raise Unparsable(f"{what} is not a list")
    return value


def require_type(doc, kind: str, what: str) -> None:
    if not isinstance(doc, dict) or doc.get("type") != kind:
        raise Unparsable(f"{what}: type is {type_of(doc)!r}, not {kind!r}")


def type_of(value):
    return value.get("type") if isinstance(value, dict) else None


def host(url: str) -> str:
    return urlsplit(url).netloc.lower()


class _Text(HTMLParser):
    """html → plain lines, roughly as html2text/html2md give a title (0.19.20 objects/post.rs:205-216)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "div"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "div"):
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(text: str) -> str:
    parser = _Text()
    parser.feed(text)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
