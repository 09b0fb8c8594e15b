"""A small model of how Lemmy takes in a remote community (a Circles
`Group`) and what it sends: which shapes its serde structs accept, which
checks its `verify` and `receive` make, and what a Lemmy user then sees
(posts with titles, comments, deleted and removed flags). The structs
themselves are read in `lemmy_serde`.

Two versions, `version="0.19"` (tag 0.19.20) and `version="1.0"` (main at
439734dd6), from /work/.mirror/LemmyNet+lemmy/repo; the federation library
is activitypub-federation ("apf") 0.5.11 and 0.7.0-beta.11. A citation
`0.19.20 x` is crates/apub/src/x in 0.19.20; `main x` is under crates/ in
main. Lemmy compares `Url::domain()` (the host, without the port); every
test server is a port of 127.0.0.1, so the model compares host:port.

Strict on purpose: serde failures and failed checks are `Rejection`s with
their reason. Not modelled: slur filters, bans, instance blocks, votes,
locks, private messages, thumbnails, the 9 s inbox timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.interop.receivers.fetching import Fetch, Rejection
from tests.interop.receivers.lemmy_serde import (
    MAIN_SERDE, PUBLIC, Rejected, Unparsable, as_i32, as_list, as_url, community_visibility,
    creator, host, html_to_text, merge, parse_accept, parse_announce, parse_create_or_update_note,
    parse_create_or_update_page, parse_delete, parse_group, parse_note, parse_note_wrapper,
    parse_page, parse_person, raw_announcable, require_type, type_of,
)

# apf 0.5.11 src/fetch/mod.rs:57-61: the exact Content-Types it takes (lower-cased).
FETCH_CONTENT_TYPES = ("application/activity+json",
                       'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                       "application/activity+json; charset=utf-8")
MAX_TITLE_LENGTH = 200  # 0.19.20 objects/post.rs:55, used at :209,219


@dataclass
class Community:
    ap_id: str
    name: str
    title: str
    inbox: str
    outbox: str
    followers: str | None
    moderators: str | None
    featured: str | None
    visibility: str = "Public"
    deleted: bool = False


@dataclass
class Post:
    ap_id: str
    community: str
    creator: str
    name: str
    body: str | None
    url: str | None
    kind: str
    deleted: bool = False
    removed: bool = False
    removal_reason: str | None = None


@dataclass
class Comment:
    ap_id: str
    post: str
    creator: str
    content: str
    deleted: bool = False
    removed: bool = False


class LemmyServer:
    """One Lemmy server, `origin`, with `local_users`, fetching with `fetch`."""

    def __init__(self, origin: str, local_users: list[str], fetch: Fetch, *, version: str) -> None:
        assert version in ("0.19", "1.0"), version
        self.origin, self.local_users, self.fetch, self.version = origin, set(local_users), fetch, version
        self.communities: dict[str, Community] = {}
        self.persons: dict[str, str] = {}  # ap_id -> type
        self.posts_by_id: dict[str, Post] = {}
        self.comments_by_id: dict[str, Comment] = {}
        self.follows: dict[tuple[str, str], str] = {}  # (user, community) -> "pending" | "accepted"
        self.received: set[str] = set()  # received_activity ap_ids
        self.rejections: list[Rejection] = []
        self.collection_errors: dict[str, str] = {}  # what reading a Group's collections refused, by URL

    @property
    def main(self) -> bool:
        return self.version == "1.0"

    # --- what the test tells it and reads --------------------------------------------------

    def follow(self, user: str, community_id: str) -> Community:
        """`user` subscribes: the community is fetched (and its collections),
        and a pending follow row exists until the Accept (0.19.20
        activities/following/follow.rs:33-63)."""
        community = self.dereference_community(community_id)
        self.follows[(user, community.ap_id)] = "pending"
        return community

    def posts(self, community_id: str) -> list[Post]:
        return [p for p in self.posts_by_id.values() if p.community == community_id]

    def post(self, ap_id: str) -> Post | None:
        return self.posts_by_id.get(ap_id)

    def comments(self, post_id: str) -> list[Comment]:
        return [c for c in self.comments_by_id.values() if c.post == post_id]

    # --- the inbox ---------------------------------------------------------------------------

    def receive(self, activity: dict, *, signer: str | None) -> bool:
        """An activity POSTed to the shared inbox (Lemmy delivers to and
        serves only `/inbox` in 1.0: main apub/apub/src/http/routes.rs:66-70)."""
        token = MAIN_SERDE.set(self.main)
        try:
            # apf checks: the signature is the actor's, the id is on the actor's
            # domain and not local (apf 0.7.0-beta.11 src/actix_web/inbox.rs:91-102,
            # src/config.rs:127-140).
            actor, activity_id = as_url(activity.get("actor"), "actor"), as_url(activity.get("id"), "id")
            if signer != actor:
                raise Rejected(f"signed by {signer}, not by the actor {actor} (apf src/actix_web/inbox.rs)")
            if host(activity_id) != host(actor):
                raise Rejected("the activity id is not on the actor's domain (apf src/config.rs:127-140)")
            if self.main:  # the id is recorded before verify (main apub/apub/src/http/mod.rs:64-85)
                self._insert_received(activity_id)
            self._shared_inbox(activity)
        except Rejected as rejected:
            self.rejections.append(Rejection(activity.get("id"), activity.get("type"), str(rejected)))
            return False
        finally:
            MAIN_SERDE.reset(token)
        return True

    def _shared_inbox(self, activity: dict) -> None:
        """The untagged SharedInboxActivities, tried in order (0.19.20
        activity_lists.rs:41-50; main activities/src/activity_lists.rs:42-52)."""
        attempts = []
        for name, parse, handle in (("AcceptFollow", parse_accept, self._accept),
                                    ("AnnounceActivity", parse_announce, self._announce)):
            try:
                parsed = parse(activity)
            except Unparsable as error:
                attempts.append(f"{name}: {error}")
                continue
            return handle(parsed)
        try:  # the catch-all: an activity sent straight to the inbox (0.19.20 activities/community/announce.rs:51-77)
            return self._announcable(activity, announced=False)
        except Unparsable as error:
            attempts.append(f"RawAnnouncableActivities: {error}")
        raise Unparsable("data did not match any variant of SharedInboxActivities: " + "; ".join(attempts))

    def _insert_received(self, activity_id: str) -> None:
        """received_activity has a unique ap_id (0.19.20 crates/db_schema/src/impls/activity.rs:44-60)."""
        if activity_id in self.received:
            raise Rejected(f"activity {activity_id} was already received (db_schema impls/activity.rs:44-60)")
        self.received.add(activity_id)

    # Accept ----------------------------------------------------------------------------------

    def _accept(self, accept: dict) -> None:
        """0.19.20 activities/following/accept.rs:55-75."""
        follow = accept["object"]
        if accept["actor"] != follow["object"]:
            raise Rejected("Accept actor is not the followed community (accept.rs:56)")
        if accept.get("to") and accept["to"][0] != follow["actor"]:
            raise Rejected("Accept `to` is not the follower (accept.rs:58-60)")
        if not self.main:
            self._insert_received(accept["id"])
        key = (follow["actor"], accept["actor"])
        if key not in self.follows:
            raise Rejected("no follow was requested (accept.rs:69-72, follow_accepted)")
        self.follows[key] = "accepted"

    # Announce ------------------------------------------------------------------------------------

    def _announce(self, announce: dict) -> None:
        """0.19.20 activities/community/announce.rs:155-177; main activities/src/community/announce.rs:153-173."""
        if not self.main:
            _verify_is_public(announce["to"], announce["cc"], "Announce (0.19.20 announce.rs:157)")
            self._insert_received(announce["id"])  # 0.19.20 announce.rs:163
        inner = announce["object"]
        if isinstance(inner, str):  # fetched over HTTP (0.19.20 protocol/mod.rs:74-80)
            inner = self._fetch_object(inner)
            raw_announcable(inner)
        self._announcable(inner, announced=True, announce=announce)

    def _announcable(self, inner: dict, *, announced: bool, announce: dict | None = None) -> None:
        """The untagged AnnouncableActivities (0.19.20 activity_lists.rs:83-99;
        main activities/src/activity_lists.rs:57-76): parse, find the community,
        check it may be received, verify, receive."""
        raw_announcable(inner)
        kind, parsed = self._parse_announcable(inner)
        if kind == "Page":  # send-only (0.19.20 announce.rs:166-169; main announce.rs:160-163)
            raise Rejected("CannotReceivePage: an announced Page is not received (0.19.20 announce.rs:166-169)")
        if kind == "NoteWrapper":  # main: a comment, else a post, else a private message
            return self._note_wrapper(parsed, announced=announced, announce=announce)
        community = self._community_of(kind, parsed)
        if announce is not None and self.main:
            if announce["actor"] != community.ap_id:  # main announce.rs:166
                raise Rejected(f"the Announce actor is not the community {community.ap_id} (main announce.rs:166)")
            self._verify_visibility(announce["to"], announce["cc"], community, "Announce (main announce.rs:167)")
        self._can_accept(community)
        getattr(self, f"_verify_{kind}")(parsed, community)
        getattr(self, f"_receive_{kind}")(parsed, community)

    def _parse_announcable(self, inner: dict) -> tuple[str, dict]:
        variants = [("note", parse_create_or_update_note), ("page", parse_create_or_update_page),
                    ("delete", parse_delete), ("Page", parse_page)]
        if self.main:  # CreateOrUpdateNoteWrapper is tried first (main activity_lists.rs:57-60)
            variants.insert(0, ("NoteWrapper", parse_note_wrapper))
        attempts = []
        for kind, parse in variants:
            try:
                return kind, parse(inner)
            except Unparsable as error:
                attempts.append(f"{kind}: {error}")
        raise Unparsable(f"{inner.get('type')}{{{type_of(inner.get('object'))}}} matches no AnnouncableActivities "
                         f"variant (model: Vote, Undo, Update{{Group}}, Block, Add, Remove, Lock not modelled): "
                         + "; ".join(attempts))

    def _can_accept(self, community: Community) -> None:
        """The community has a local follower, pending ones count (0.19.20
        announce.rs:211-226); main also counts local posts there and needs an
        accepted follow (main db_schema/src/impls/community.rs:342-363)."""
        rows = [state for (user, c), state in self.follows.items() if c == community.ap_id]
        local_posts = any(p.creator in self.local_users for p in self.posts(community.ap_id))
        ok = (any(s == "accepted" for s in rows) or local_posts) if self.main else bool(rows)
        if not ok:
            raise Rejected(f"CommunityHasNoFollowers: {community.ap_id} (0.19.20 announce.rs:211-226)")
        if community.visibility != "Public" and not self.main:
            raise Rejected("the community is not public (0.19.20 announce.rs:221-224)")

    def _note_wrapper(self, wrapper: dict, *, announced: bool, announce: dict | None) -> None:
        """main activities/src/create_or_update/note_wrapper.rs:35-76: a
        comment if it verifies as one, else a post; announced, only a comment
        can name its community (:70-76, announce.rs:165)."""
        try:
            note = parse_create_or_update_note(wrapper)
        except Unparsable as error:
            if announced:
                raise Rejected(f"an announced Create{{Note}} that is no comment has no community in 1.0 "
                               f"(main note_wrapper.rs:70-76, announce.rs:165): {error}") from error
            note = None
        if note is not None:
            community = self._community_of("note", note)
            if announce is not None:
                if announce["actor"] != community.ap_id:
                    raise Rejected("the Announce actor is not the community (main announce.rs:166)")
                self._verify_visibility(announce["to"], announce["cc"], community, "Announce (main announce.rs:167)")
            self._can_accept(community)
            self._verify_note(note, community)
            return self._receive_note(note, community)
        page = parse_create_or_update_page(wrapper)
        community = self._community_of("page", page)
        self._can_accept(community)
        self._verify_page(page, community)
        self._receive_page(page, community)

    def _community_of(self, kind: str, parsed: dict) -> Community:
        if kind == "page":  # 0.19.20 protocol/activities/create_or_update/page.rs:31-40
            community = self._page_community(parsed["object"])
        elif kind == "note":  # via the parent post (0.19.20 protocol/activities/create_or_update/note.rs:35-47)
            post = self._parents(parsed["object"])
            community = self.communities[post.community]
        else:  # Delete: the object already in the DB (0.19.20 protocol/activities/deletion/delete.rs:48-73)
            target = self.posts_by_id.get(parsed["object_id"]) or self.comments_by_id.get(parsed["object_id"])
            if target is None:
                raise Rejected(f"NotFound: {parsed['object_id']} is not known here "
                               "(0.19.20 activities/deletion/mod.rs:130-152)")
            post = target if isinstance(target, Post) else self.posts_by_id[target.post]
            community = self.communities[post.community]
        if parsed.get("audience") and parsed["audience"] != community.ap_id:
            raise Rejected("`audience` is not the community (0.19.20 activities/mod.rs verify_community_matches)")
        return community

    def _page_community(self, page: dict) -> Community:
        """0.19.20 protocol/objects/page.rs:227-263: `audience` if present, else
        the first of to/cc (merged) that dereferences as a Group. main
        protocol/page.rs:218-254 ignores `audience` for this, skips only Public,
        and then requires `audience` to match."""
        if page.get("audience") and not self.main:
            return self.dereference_community(page["audience"])
        if isinstance(page["attributedTo"], list):  # Peertube-style: the Group entry
            group = next((a["id"] for a in page["attributedTo"] if a.get("type") == "Group"), None)
            if group is None:
                raise Rejected("CouldntFindCommunity (0.19.20 page.rs:248-255)")
            return self.dereference_community(group)
        for candidate in merge(page["to"], page["cc"]):
            if self.main and candidate == PUBLIC:
                continue
            try:
                community = self.dereference_community(candidate)
            except Rejected:
                continue
            if self.main and page.get("audience") and page["audience"] != community.ap_id:
                raise Rejected("`audience` is not the community found in to/cc (main page.rs:249-251)")
            return community
        raise Rejected("CouldntFindCommunity: no Group in to/cc (0.19.20 page.rs:236-246)")

    def _verify_visibility(self, to: list[str], cc: list[str], community: Community, what: str) -> None:
        """main objects/src/utils/functions.rs:247-255."""
        public = PUBLIC in to or PUBLIC in cc
        if community.visibility in ("Public", "Unlisted") and not public:
            raise Rejected(f"ObjectIsNotPublic: {what}")
        if community.visibility == "Private" and public:
            raise Rejected(f"ObjectIsNotPrivate: {what} in a private community (manuallyApprovesFollowers)")

    def _verify_public(self, to, cc, community: Community, what: str) -> None:
        if self.main:
            self._verify_visibility(to, cc, community, what)
        else:
            _verify_is_public(to, cc, what)

    # Posts --------------------------------------------------------------------------------------

    def _verify_page(self, activity: dict, community: Community) -> None:
        """0.19.20 activities/create_or_update/post.rs:108-117 and objects/post.rs:162-181."""
        page, actor = activity["object"], activity["actor"]
        self._verify_public(activity["to"], activity["cc"], community, "Create/Update (post.rs:109)")
        self._person(actor)  # verify_person_in_community
        if host(actor) != host(page["id"]):
            raise Rejected("the actor's domain is not the Page's (post.rs:113)")
        if actor != creator(page):
            raise Rejected(f"the actor {actor} is not the Page's creator {creator(page)} (post.rs:114)")
        existing = self.posts_by_id.get(page["id"])
        if activity["type"] == "Update" and existing is not None and existing.creator != actor:
            raise Rejected("only the creator updates a post (post.rs:114)")
        self._verify_post_object(page, expected=actor, community=community)

    def _verify_post_object(self, page: dict, *, expected: str, community: Community) -> None:
        """ApubPost::verify (0.19.20 objects/post.rs:162-181)."""
        if host(page["id"]) != host(expected):
            raise Rejected("the Page id is not on the expected domain (objects/post.rs:167)")
        if page["id"].startswith(self.origin + "/"):
            raise Rejected("the Page is local (objects/post.rs:168)")
        self._person(creator(page))
        if host(creator(page)) != host(page["id"]):
            raise Rejected("the creator's domain is not the Page's (objects/post.rs:178)")
        self._verify_public(page["to"], page["cc"], community, "Page (objects/post.rs:179)")

    def _receive_page(self, activity: dict, community: Community) -> None:
        if not self.main:
            self._insert_received(activity["id"])  # 0.19.20 create_or_update/post.rs:121
        self._store_post(activity["object"], community)

    def _store_post(self, page: dict, community: Community) -> Post:
        """ApubPost::from_json (0.19.20 objects/post.rs:184-275): the title is
        `name`, else the first line of `content`; the link is the first
        attachment (`url` and `summary` are not read); the body is `source`
        (markdown), else `content` as markdown. Upsert by ap_id (last write wins)."""
        name = page.get("name")
        if name is None and page.get("content") is not None:
            lines = html_to_text(page["content"]).splitlines()
            name = lines[0].replace(f"@{community.name}", "").strip() if lines else None
        if name is None:
            raise Rejected("Object must have name or content (objects/post.rs:198-218)")
        attachment = page["attachment"][0] if page["attachment"] else None
        url = (attachment.get("href") or attachment.get("url")) if attachment else (
            page["id"] if page["type"] == "Video" else None)  # objects/post.rs:223-233
        body = None
        if page.get("content") is not None:  # objects/mod.rs:29-54
            body = page["source"]["content"] if page.get("source") else (
                page["content"] if page.get("mediaType") == "text/markdown" else html_to_text(page["content"]))
        post = Post(ap_id=page["id"], community=community.ap_id, creator=creator(page), name=name[:MAX_TITLE_LENGTH],
                    body=body, url=url, kind=page["type"])
        old = self.posts_by_id.get(post.ap_id)
        if old is not None:
            post.deleted, post.removed, post.removal_reason = old.deleted, old.removed, old.removal_reason
        self.posts_by_id[post.ap_id] = post
        return post

    # Comments ------------------------------------------------------------------------------------

    def _verify_note(self, activity: dict, community: Community) -> None:
        """0.19.20 activities/create_or_update/comment.rs:127-140 and objects/comment.rs:143-178."""
        note, actor = activity["object"], activity["actor"]
        self._verify_public(activity["to"], activity["cc"], community, "Create/Update (comment.rs:128)")
        post = self._parents(note)
        self._person(actor)  # verify_person_in_community (comment.rs:132)
        if host(actor) != host(note["id"]):
            raise Rejected("the actor's domain is not the Note's (comment.rs:133)")
        if post.deleted or post.removed:
            raise Rejected("the post is deleted or removed (comment.rs:135)")
        if actor != note["attributedTo"]:
            raise Rejected("the actor is not the Note's attributedTo (comment.rs:136)")
        if host(note["attributedTo"]) != host(note["id"]):
            raise Rejected("attributedTo is not on the Note's domain (objects/comment.rs:149)")
        self._verify_public(note["to"], note["cc"], community, "Note (objects/comment.rs:150)")
        self._person(note["attributedTo"])  # objects/comment.rs:160-165

    def _receive_note(self, activity: dict, community: Community) -> None:
        if not self.main:
            self._insert_received(activity["id"])  # 0.19.20 create_or_update/comment.rs:144
        note = activity["object"]
        post = self._parents(note)
        body = note["source"]["content"] if note.get("source") else (
            note["content"] if note.get("mediaType") == "text/markdown" else html_to_text(note["content"]))
        old = self.comments_by_id.get(note["id"])
        comment = Comment(ap_id=note["id"], post=post.ap_id, creator=note["attributedTo"], content=body)
        if old is not None:
            comment.deleted, comment.removed = old.deleted, old.removed
        self.comments_by_id[comment.ap_id] = comment

    def _parents(self, note: dict) -> Post:
        """inReplyTo dereferenced as a post or a comment, up to the post
        (0.19.20 protocol/objects/note.rs:62-88; fetcher/post_or_comment.rs:28-33)."""
        parent = note["inReplyTo"]
        if parent in self.posts_by_id:
            return self.posts_by_id[parent]
        if parent in self.comments_by_id:
            return self.posts_by_id[self.comments_by_id[parent].post]
        body = self._fetch_object(parent)
        try:
            page = parse_page(body)
        except Unparsable:
            note_parent = parse_note(body)
            post = self._parents(note_parent)
            self._verify_note({"type": "Create", "actor": note_parent["attributedTo"], "to": note_parent["to"],
                               "cc": note_parent["cc"], "object": note_parent}, self.communities[post.community])
            self.comments_by_id[note_parent["id"]] = Comment(note_parent["id"], post.ap_id, note_parent["attributedTo"],
                                                             html_to_text(note_parent["content"]))
            return post
        community = self._page_community(page)
        self._verify_post_object(page, expected=parent, community=community)
        return self._store_post(page, community)

    # Delete and remove -----------------------------------------------------------------------

    def _verify_delete(self, delete: dict, community: Community) -> None:
        """0.19.20 activities/deletion/delete.rs:47-50 and deletion/mod.rs:166-234;
        main objects/src/utils/functions.rs:298-317 for a removal."""
        _verify_is_public(delete["to"], [], "Delete (deletion/mod.rs:189)")
        actor, object_id = delete["actor"], delete["object_id"]
        if delete.get("summary") is None:
            self._person(actor)  # verify_person_in_community (deletion/mod.rs:226)
            if host(actor) != host(object_id):
                raise Rejected("a Delete without summary is the author's: the actor is not on the object's "
                               "domain (deletion/mod.rs:230-231)")
            return
        if self.main:  # no fetch when on the community's or the object's domain; then the actor as a Person
            if host(actor) not in (host(community.ap_id), host(object_id)):
                raise Rejected("NotAModerator (main utils/functions.rs:307-316)")
            self._person(actor)  # receive_remove_action dereferences it (main deletion/delete.rs:54-56)
            return
        self._person(actor)  # verify_person_in_community, verify_mod_action (0.19.20 activities/mod.rs:104-125)
        if host(actor) != host(community.ap_id):
            raise Rejected("NotAModerator: a removal from outside the community's domain "
                           "(0.19.20 activities/mod.rs:104-125)")

    def _receive_delete(self, delete: dict, community: Community) -> None:
        """0.19.20 activities/deletion/delete.rs:53-80: with `summary` a removal, else a deletion."""
        if not self.main:
            self._insert_received(delete["id"])
        target = self.posts_by_id.get(delete["object_id"]) or self.comments_by_id.get(delete["object_id"])
        if delete.get("summary") is not None:
            target.removed = True
            if isinstance(target, Post):
                target.removal_reason = delete["summary"] or None
        else:
            target.deleted = True

    # Documents ----------------------------------------------------------------------------------

    def _fetch_object(self, url: str) -> dict:
        """apf src/fetch/mod.rs:52-95 (0.5.11): an allowed Content-Type, `id`
        equal to the URL (else one refetch from `id` on the same domain), 410 = deleted."""
        fetched = self.fetch(url)
        if fetched.status == 410:
            raise Rejected(f"{url} is gone (410) (apf src/fetch/mod.rs)")
        if fetched.status != 200:
            raise Rejected(f"fetching {url} answered {fetched.status} (apf src/fetch/mod.rs)")
        if fetched.content_type.lower() not in FETCH_CONTENT_TYPES:
            raise Rejected(f"FetchInvalidContentType {fetched.content_type!r} for {url} (apf src/fetch/mod.rs:64-72)")
        if fetched.body is None:
            raise Rejected(f"{url} is not JSON")
        if fetched.body.get("id") != url:
            if isinstance(fetched.body.get("id"), str) and host(fetched.body["id"]) == host(url):
                return self._fetch_object(fetched.body["id"])
            raise Rejected(f"FetchWrongId: {url} serves id {fetched.body.get('id')} (apf src/fetch/mod.rs:74-86)")
        return fetched.body

    def dereference_community(self, url: str) -> Community:
        if url in self.communities:
            return self.communities[url]
        token = MAIN_SERDE.set(self.main)
        try:
            return self.read_group(self._fetch_object(url), fetched_from=url)
        finally:
            MAIN_SERDE.reset(token)

    def read_group(self, doc: dict, *, fetched_from: str) -> Community:
        """Group (0.19.20 protocol/objects/group.rs:37-92; main objects/src/protocol/group.rs:21-67),
        then its outbox, followers, moderators and featured collections, whose
        errors Lemmy ignores (0.19.20 objects/community.rs:188-217); they are kept in `collection_errors`."""
        group = parse_group(doc, main=self.main)
        if host(group["id"]) != host(fetched_from):  # group.rs:82
            raise Rejected("the Group id is not on the domain it was fetched from (group.rs:82)")
        shared = (group.get("endpoints") or {}).get("sharedInbox")
        community = Community(
            ap_id=group["id"], name=group["preferredUsername"], title=group.get("name") or group["preferredUsername"],
            inbox=(shared or group["inbox"]) if self.main else group["inbox"],  # main objects/community.rs:219-226
            outbox=group["outbox"], followers=group.get("followers"),
            moderators=group["attributedTo"] if isinstance(group.get("attributedTo"), str) else None,
            featured=group.get("featured"),
            visibility=community_visibility(group) if self.main else "Public",
        )
        self.communities[community.ap_id] = community
        for url, read in ((community.outbox, self.read_outbox), (community.followers, self.read_followers),
                          (community.moderators, self.read_moderators), (community.featured, self.read_featured)):
            # main fetches featured only in debug builds (main apub/apub/src/collections/mod.rs:44)
            if url and not (self.main and read == self.read_featured):
                try:
                    read(url, community)
                except Rejected as error:
                    self.collection_errors[url] = str(error)
        return community

    def read_outbox(self, url: str, community: Community) -> None:
        """GroupOutbox (0.19.20 protocol/collections/group_outbox.rs:6-13): every
        item a full Announce; the first 50 (main: 10) are read, and only
        Create/Update{Page} is received, without the follower check
        (0.19.20 collections/community_outbox.rs:82-128; main community_outbox.rs:91-137)."""
        doc = self._fetch_object(url)
        require_type(doc, "OrderedCollection", "GroupOutbox")
        as_i32(doc.get("totalItems"), "GroupOutbox.totalItems")
        items = doc.get("orderedItems")
        if not isinstance(items, list):
            raise Unparsable("GroupOutbox: missing field `orderedItems` (group_outbox.rs:12)")
        announces = [parse_announce(item) for item in items]
        if host(doc["id"]) != host(url):
            raise Rejected("the outbox id is not on its URL's domain (community_outbox.rs:87)")
        for announce in announces[:10 if self.main else 50]:
            try:
                inner = announce["object"]
                inner = inner if isinstance(inner, dict) else self._fetch_object(inner)
                kind, parsed = self._parse_announcable(inner)
                if kind != "page":
                    continue
                self._verify_page(parsed, community)
                self._receive_page(parsed, community)
            except Rejected as error:
                self.collection_errors[f"{url} item {announce['id']}"] = str(error)

    def read_followers(self, url: str, community: Community) -> None:
        """GroupFollowers: a `Collection` with totalItems and `items` (0.19.20
        protocol/collections/group_followers.rs:5-12); only the count is used."""
        doc = self._fetch_object(url)
        require_type(doc, "Collection", "GroupFollowers")
        as_i32(doc.get("totalItems"), "GroupFollowers.totalItems")
        if not isinstance(doc.get("items"), list) or any(i is not None for i in doc["items"]):
            raise Unparsable("GroupFollowers: `items` must be a list of nulls (group_followers.rs:11 `Vec<()>`)")

    def read_moderators(self, url: str, community: Community) -> None:
        """GroupModerators (0.19.20 protocol/collections/group_moderators.rs:9-15)."""
        doc = self._fetch_object(url)
        require_type(doc, "OrderedCollection", "GroupModerators")
        for item in as_list(doc.get("orderedItems"), "GroupModerators.orderedItems"):
            self._person(as_url(item, "moderator"))

    def read_featured(self, url: str, community: Community) -> None:
        """GroupFeatured: embedded Pages (0.19.20 protocol/collections/group_featured.rs:6-13)."""
        doc = self._fetch_object(url)
        require_type(doc, "OrderedCollection", "GroupFeatured")
        as_i32(doc.get("totalItems"), "GroupFeatured.totalItems")
        for item in as_list(doc.get("orderedItems"), "GroupFeatured.orderedItems"):
            parse_page(item)

    def _person(self, url: str) -> str:
        """Dereference a Person (0.19.20 protocol/objects/person.rs:21-50): a
        Group never is one."""
        if url in self.local_users:
            return "Person"
        if url not in self.persons:
            self.persons[url] = parse_person(self._fetch_object(url), url)
        return self.persons[url]


def _verify_is_public(to, cc, what: str) -> None:
    """0.19.20 activities/mod.rs:127-133."""
    if PUBLIC not in to and PUBLIC not in cc:
        raise Rejected(f"ObjectIsNotPublic: {what}")
