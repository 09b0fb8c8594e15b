"""A small model of how Mastodon takes in what it receives, and of what its
users then see: which activities it stores or drops, which statuses it
fetches, what text a status shows, who is notified and whose home feed a
status reaches.

Each rule cites Mastodon main at 51894ac24 (4.6.0-alpha.5), as exported in
/work/notes/mastodon-src. Short forms: `activity/x.rb` is
app/lib/activitypub/activity/x.rb, `activity.rb` is
app/lib/activitypub/activity.rb, `status_parser.rb` is
app/lib/activitypub/parser/status_parser.rb.

Strict on purpose: whatever the model does not know how to take is a
`Rejection` with its reason, which the stories assert is absent for what
Circles sends. Not modelled: relays, blocks and mutes, quotes, media
downloads, Redis timing (a Delete "arriving first" is remembered for ever),
notification policies other than the defaults.

How Mastodon reads and renders an object (its text, poll, visibility) is in
`mastodon_parser`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.interop.receivers.fetching import Fetch, Rejection
from tests.interop.receivers.mastodon_parser import (
    CONVERTED_TYPES, Poll, SUPPORTED_TYPES, as_list, audience_cc, audience_to,
    converted_object_type, first, host, id_of, includes, includes_any, is_public, media_count,
    parse_poll, processed_text, summary, type_of, unsupported_object_type, url_to_href,
    visibility_of, visible_text,
)

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
# app/services/activitypub/fetch_remote_actor_service.rb:9
ACTOR_TYPES = ("Application", "Group", "Organization", "Person", "Service")
REBLOG_FALLOFF = 40  # app/lib/feed_manager.rb:15
OBJECT_AGE_THRESHOLD = dt.timedelta(days=1)  # activity/update.rb:5


class Rejected(Exception):
    """The activity is dropped: the reason, with the rule's citation."""


@dataclass
class Mention:
    account: str
    silent: bool


@dataclass
class Status:
    uri: str
    account: str
    text: str = ""  # HTML as stored
    spoiler_text: str = ""
    url: str = ""
    visibility: str = "public"
    in_reply_to: str | None = None  # the uri of a known status
    reblog_of: str | None = None  # for a boost: the original's uri
    poll: Poll | None = None
    mentions: list[Mention] = field(default_factory=list)
    media: int = 0
    edited_at: str | None = None
    local: bool = False
    deleted: bool = False

    @property
    def shown(self) -> str:
        """What a reader sees of the text: sanitized, links shortened."""
        return visible_text(self.text)


@dataclass
class Notification:
    type: str  # "mention", "reblog", ...
    status: str  # uri
    sender: str
    filtered: bool  # put among "notification requests"


@dataclass
class Account:
    uri: str
    type: str
    followers_url: str | None
    inbox: str | None


# --- the server --------------------------------------------------------------------------


class MastodonServer:
    """One Mastodon server, `origin`, with `local_users` (actor URIs), that
    fetches other servers' documents with `fetch`."""

    def __init__(self, origin: str, local_users: list[str], fetch: Fetch, *, shared_inbox: str = "/inbox") -> None:
        self.origin, self.local_users, self.fetch, self.shared_inbox = origin, set(local_users), fetch, shared_inbox
        self.statuses: dict[str, Status] = {}
        self.accounts: dict[str, Account] = {}
        self.follow_requests: dict[tuple[str, str], str] = {}  # (local user, target) -> Follow id
        self.following: dict[str, set[str]] = {user: set() for user in local_users}
        self.tombstones: set[str] = set()
        self.deleted_first: set[tuple[str, str]] = set()  # (actor, uri): "delete_upon_arrival"
        self.home_feeds: dict[str, list[str]] = {user: [] for user in local_users}  # newest first
        self.notes: dict[str, list[Notification]] = {user: [] for user in local_users}
        self.rejections: list[Rejection] = []
        self.accepted: list[str] = []  # ids of activities taken

    # --- what the test tells it ----------------------------------------------------------

    def follow(self, user: str, target: str, follow_id: str) -> None:
        """`user` sent a Follow: a request until the target accepts it."""
        self.follow_requests[(user, target)] = follow_id

    def post(self, user: str, note: dict) -> Status:
        """`user` wrote this Note here (the peer sent it)."""
        status = self._new_status(note, user, visibility="public")
        status.local = True
        self.statuses[status.uri] = status
        return status

    # --- what the test reads -------------------------------------------------------------

    def status(self, uri: str) -> Status | None:
        found = self._status_from_uri(uri)
        return found if found is not None and not found.deleted else None

    def home(self, user: str) -> list[Status]:
        """The user's home feed, newest first (boosts as the booster's status)."""
        return [self.statuses[uri] for uri in self.home_feeds[user] if not self.statuses[uri].deleted]

    def notifications(self, user: str, *, filtered: bool = False) -> list[Notification]:
        return [n for n in self.notes[user] if n.filtered == filtered and not self.statuses[n.status].deleted]

    def thread(self, uri: str) -> list[Status]:
        """A status and the known replies below it, depth first."""
        root = self.status(uri)
        if root is None:
            return []
        below = [s for s in self.statuses.values() if s.in_reply_to == uri and not s.deleted]
        return [root, *(s for child in below for s in self.thread(child.uri))]

    # --- receiving ---------------------------------------------------------------------------

    def receive(self, inbox_path: str, activity: dict, *, signer: str | None) -> bool:
        """An activity POSTed to `inbox_path`, signed by `signer` (the actor
        whose key signed it). True when it was taken."""
        delivered_to = None
        if inbox_path != self.shared_inbox:  # a personal inbox: app/controllers/activitypub/inboxes_controller.rb:76
            delivered_to = next((u for u in self.local_users if urlsplit(u).path + "/inbox" == inbox_path), None)
        try:
            # Only the actor's own signature counts; the AS context is required
            # (app/services/activitypub/process_collection_service.rb:21,47-49;
            # app/helpers/json_ld_helper.rb:69-71).
            if not includes(activity.get("@context"), AS_CONTEXT):
                raise Rejected("no ActivityStreams @context (process_collection_service.rb:21)")
            actor = id_of(activity.get("actor"))
            if actor != signer:
                raise Rejected(f"actor {actor} is not the signer {signer} (process_collection_service.rb:21,47-49)")
            handler = getattr(self, f"_on_{activity.get('type', '').lower()}", None)
            if handler is None:
                raise Rejected(f"model: activities of type {activity.get('type')} are not modelled")
            handler(activity, self._account(actor), delivered_to)
        except Rejected as rejected:
            self.rejections.append(Rejection(activity.get("id"), activity.get("type"), str(rejected)))
            return False
        self.accepted.append(activity.get("id"))
        return True

    # Create ------------------------------------------------------------------------------

    def _on_create(self, activity: dict, account: Account, delivered_to: str | None, *,
                   fetched: bool = False) -> Status:
        obj = self._dereference(activity.get("object"), account)  # activity.rb:133-139
        object_uri = id_of(obj)
        # activity/create.rb:15
        if unsupported_object_type(obj):
            raise Rejected(f"unsupported object type {type_of(obj)} (activity/create.rb:15, activity.rb:80-82)")
        if host(object_uri) != host(account.uri):
            raise Rejected(f"object {object_uri} is not on the actor's host (activity/create.rb:15)")
        if object_uri in self.tombstones:
            raise Rejected(f"a Tombstone exists for {object_uri} (activity/create.rb:15,436-438)")
        if not (fetched or self._related_to_local_activity(activity, obj, account, delivered_to)):
            raise Rejected("not related to local activity: no local follower of the actor, no local "
                           "account addressed, no reply to a followed account (activity/create.rb:421-434)")
        if (account.uri, object_uri) in self.deleted_first:  # activity/create.rb:19
            raise Rejected(f"a Delete of {object_uri} arrived first (activity/create.rb:19)")
        existing = self._status_from_uri(object_uri)  # activity/create.rb:79-83
        if existing is not None and existing.account == account.uri:
            return existing
        if existing is not None:  # app/models/status.rb:105 `validates :uri, uniqueness: true`
            raise Rejected(f"Validation failed: Uri has already been taken ({object_uri}, app/models/status.rb:105)")
        status = self._new_status(obj, account.uri, activity=activity)
        if not status.text and not status.media:  # app/models/status.rb:106
            raise Rejected(f"Validation failed: Text can't be blank ({object_uri}; app/models/status.rb:106)")
        audience = self._audience_accounts(activity, obj, delivered_to)
        status.mentions = self._mentions(obj)
        for uri in audience:  # activity/create.rb:132-143: the audience are silent mentions
            if not any(m.account == uri for m in status.mentions):
                status.mentions.append(Mention(uri, silent=True))
                if status.visibility == "direct":
                    status.visibility = "limited"
        # Tagged but not addressed: "silenced" for notifications (activity/create.rb:145-147).
        silenced = {m.account for m in status.mentions if m.account in self.local_users} - set(audience)
        self.statuses[status.uri] = status
        self._distribute(status, silenced)
        return status

    def _new_status(self, obj: dict, account: str, *, activity: dict | None = None,
                    visibility: str | None = None) -> Status:
        """activity/create.rb:85-116, through status_parser.rb."""
        converted = converted_object_type(obj)
        status = Status(uri=obj["id"], account=account)
        status.url = url_to_href(obj.get("url")) or obj["id"]  # activity/create.rb:98, status_parser.rb:33-38
        status.text = processed_text(obj)  # activity/create.rb:100
        status.spoiler_text = "" if converted else (summary(obj) or "")  # status_parser.rb:66-70
        status.visibility = visibility or visibility_of(obj, activity or {}, self._followers_url(account))
        status.in_reply_to = self._replied_to(obj)
        status.media = media_count(obj)
        status.poll = parse_poll(obj)
        edited = obj.get("updated")
        status.edited_at = edited if edited != obj.get("published") else None  # activity/create.rb:104
        return status

    def _related_to_local_activity(self, activity: dict, obj: dict, account: Account, delivered_to: str | None) -> bool:
        """activity/create.rb:421-434 (fetch? is handled by the caller)."""
        if self._followed_by_local_accounts(account.uri):  # activity.rb:182-184
            return True
        parent = self._status_from_uri(id_of(obj.get("inReplyTo")) or "")
        if parent is not None and (parent.local or self._followed_by_local_accounts(parent.account)):
            return True  # responds_to_followed_account? (activity/create.rb:426-428)
        if delivered_to:  # addresses_local_accounts? (activity/create.rb:430-434)
            return True
        return any(uri in self.local_users for uri in audience_to(obj, activity) + audience_cc(obj, activity))

    def _audience_accounts(self, activity: dict, obj: dict, delivered_to: str | None) -> list[str]:
        """Known accounts in to/cc (never fetched), and the inbox owner (activity/create.rb:118-130)."""
        found = []
        for uri in dict.fromkeys(audience_to(obj, activity) + audience_cc(obj, activity)):
            if not is_public(uri) and (uri in self.local_users or uri in self.accounts):
                found.append(uri)
        if delivered_to and delivered_to not in found:
            found.append(delivered_to)
        return found

    def _mentions(self, obj: dict) -> list[Mention]:
        """Mention tags: only `href` counts; an unknown account is fetched
        (activity/create.rb:203-215, 236-247)."""
        mentions = []
        for tag in as_list(obj.get("tag")):
            if not isinstance(tag, dict) or not includes(tag.get("type"), "Mention") or not tag.get("href"):
                continue
            href = tag["href"]
            if href in self.local_users or self._account(href, required=False) is not None:
                if not any(m.account == href for m in mentions):
                    mentions.append(Mention(href, silent=False))
        return mentions

    def _distribute(self, status: Status, silenced: set[str]) -> None:
        """Mention notifications (app/services/fan_out_on_write_service.rb:81-86,
        only `active_mentions`: app/models/mention.rb:23) and home feeds
        (fan_out_on_write_service.rb:114-120, 138-144)."""
        for mention in status.mentions:
            if mention.silent or mention.account not in self.local_users:
                continue
            following = status.account in self.following[mention.account]
            # The default policy filters a mention from someone not followed when it
            # was not addressed to them, or is a direct message not in answer to
            # theirs (app/models/notification_policy.rb:14-15; app/services/notify_service.rb:73-75,199-205).
            filtered = not following and (mention.account in silenced or status.visibility == "direct")
            self.notes[mention.account].append(Notification("mention", status.uri, status.account, filtered))
        readers = [u for u in self.local_users if status.account in self.following[u]]
        readers += [m.account for m in status.mentions if m.account in readers]
        for user in dict.fromkeys(readers):
            if not self._filtered_from_home(status, user):
                self._add_to_feed(user, status)

    def _filtered_from_home(self, status: Status, user: str) -> bool:
        """app/lib/feed_manager.rb:448-478 (blocks, mutes, languages not modelled)."""
        if status.account == user or status.in_reply_to is None:  # :449; no reply (boosts pass, :470-473)
            return False
        parent = self.statuses.get(status.in_reply_to)
        if parent is None:
            return True  # the parent is unknown (:450)
        # A reply reaches a follower who follows the one it answers, whom it
        # answers, or when it is a self-reply (:466-469).
        return parent.account not in self.following[user] and parent.account not in (user, status.account)

    def _add_to_feed(self, user: str, status: Status) -> None:
        """A boost is not inserted again while the original, or a boost of it,
        is among the top REBLOG_FALLOFF items (app/lib/feed_manager.rb:537-562)."""
        feed = self.home_feeds[user]
        if status.reblog_of is not None:
            top = feed[:REBLOG_FALLOFF]
            if any(uri == status.reblog_of or self.statuses[uri].reblog_of == status.reblog_of for uri in top):
                return
        feed.insert(0, status.uri)

    # Announce ----------------------------------------------------------------------------

    def _on_announce(self, activity: dict, account: Account, delivered_to: str | None) -> None:
        """activity/announce.rb:4-33."""
        obj = activity.get("object")
        object_uri = id_of(obj)
        if (account.uri, activity.get("id")) in self.deleted_first:
            raise Rejected("an Undo of this Announce arrived first (activity/announce.rb:5)")
        local_target = (found := self._status_from_uri(object_uri or "")) is not None and found.local
        if not (self._followed_by_local_accounts(account.uri) or local_target):  # activity/announce.rb:77-79
            raise Rejected(f"{account.uri} has no local follower and boosts no local status "
                           "(activity/announce.rb:5,77-79)")
        if obj is None:
            raise Rejected("no object (activity/announce.rb:6)")
        original = self._status_from_object(obj, account)  # activity.rb:100-117
        if original is None:
            raise Rejected(f"cannot resolve the boosted object {object_uri} (activity/announce.rb:11)")
        if not (original.account == account.uri or original.visibility in ("public", "unlisted")):
            raise Rejected("the boosted status is not public or unlisted (activity/announce.rb:73-75)")
        if any(s.reblog_of == original.uri and s.account == account.uri and not s.deleted
               for s in self.statuses.values()):
            return  # one boost per (account, status): activity/announce.rb:14-16
        boost = Status(uri=activity["id"], account=account.uri, reblog_of=original.uri,  # announce.rb:18-25,53-71
                       visibility=visibility_of({}, activity, account.followers_url, own=True))
        self.statuses[boost.uri] = boost
        for user in self.local_users:  # distribute: fan_out_on_write_service.rb:114-120
            if account.uri in self.following[user]:
                self._add_to_feed(user, boost)

    def _status_from_object(self, obj, account: Account) -> Status | None:
        """activity.rb:100-117: a known status; else an embedded self-boost;
        else fetched by its id (the embedded body of someone else's post is never used)."""
        known = self._status_from_uri(id_of(obj) or "")
        if known is not None:
            return known
        if isinstance(obj, dict) and not unsupported_object_type(obj):
            if id_of(first(obj.get("attributedTo"))) == account.uri:
                return self._on_create({"type": "Create", "actor": account.uri, "object": obj}, account, None)
        return self._fetch_remote_status(id_of(obj))

    def _fetch_remote_status(self, uri: str | None) -> Status | None:
        """app/services/activitypub/fetch_remote_status_service.rb:11-57."""
        if not uri or not uri.startswith("http") or uri.startswith(self.origin + "/"):
            return None  # activity.rb:169-170
        json = self._fetch_resource(uri)
        if json is None or not includes(json.get("@context"), AS_CONTEXT):  # :22
            return None
        if includes_any(json.get("type"), SUPPORTED_TYPES + CONVERTED_TYPES):  # :28-31
            actor_uri = id_of(first(json.get("attributedTo")))
            activity = {"type": "Create", "actor": actor_uri, "object": json}
        elif includes_any(json.get("type"), ("Create", "Announce")):  # :32-35, 78-80
            actor_uri = id_of(first(json.get("actor")))
            activity = json
        else:
            return None
        if actor_uri is None or host(json["id"]) != host(actor_uri):  # trustworthy_attribution? :38,61-66
            return None
        actor = self._account(actor_uri, required=False)  # :42-44
        if actor is None:
            return None
        try:
            if activity["type"] == "Announce":
                self._on_announce(activity, actor, None)
                return self._status_from_uri(id_of(activity.get("object")) or "")
            return self._on_create(activity, actor, None, fetched=True)  # fetch? is true: no delivery
        except Rejected:
            return None

    def _fetch_resource(self, uri: str) -> dict | None:
        """HTTP 200, an ActivityPub content type, and `id` exactly the URL
        asked for (app/helpers/json_ld_helper.rb:190-201, 220-231, 299-309)."""
        fetched = self.fetch(uri)
        media_type, _, params = fetched.content_type.partition(";")
        media_type = media_type.strip().lower()
        valid = media_type == "application/activity+json" or (
            media_type == "application/ld+json" and AS_CONTEXT in params)
        if fetched.status != 200 or not valid or fetched.body is None:
            return None
        return fetched.body if fetched.body.get("id") == uri else None

    # Update, Delete, Undo, Accept ----------------------------------------------------------

    def _on_update(self, activity: dict, account: Account, delivered_to: str | None) -> None:
        """activity/update.rb:7-42 and app/services/activitypub/process_status_update_service.rb."""
        obj = self._dereference(activity.get("object"), account)
        if includes_any(type_of(obj), ACTOR_TYPES):  # activity/update.rb:12-13,21-25
            if id_of(obj) != account.uri:
                raise Rejected("an actor Update of another actor (activity/update.rb:22)")
            self.accounts[account.uri] = _account_of(obj)
            return
        if unsupported_object_type(obj):  # activity/update.rb:14: nothing else is updated
            raise Rejected(f"Update of a {type_of(obj)}: not processed (activity/update.rb:12-16)")
        if host(id_of(obj)) != host(account.uri):
            raise Rejected("object not on the actor's host (activity/update.rb:28)")
        status = self.statuses.get(obj["id"])
        status = status if status is not None and status.account == account.uri and not status.deleted else None
        if status is None:
            if _too_old(obj):
                raise Rejected("Update of an unknown status published over a day ago (activity/update.rb:34,44-48)")
            status = self._on_create(activity, account, delivered_to)  # activity/update.rb:37
            return
        edited = obj.get("updated")
        if status.edited_at and edited and status.edited_at > edited:  # already_updated_more_recently? :23,392-394
            return
        if edited and (status.edited_at is None or edited > status.edited_at):  # :25-26 explicit update
            status.text = processed_text(obj)  # :171-175
            status.spoiler_text = "" if converted_object_type(obj) else (summary(obj) or "")
            status.poll = parse_poll(obj) or status.poll
            status.edited_at = edited
        elif status.edited_at and (not edited or edited < status.edited_at):  # :27-29 older
            return
        else:  # implicit: only poll tallies and counts (:31, update_poll! :139-169)
            poll = parse_poll(obj)
            if poll is not None and status.poll is not None and poll.options == status.poll.options:
                status.poll = poll

    def _on_delete(self, activity: dict, account: Account, delivered_to: str | None) -> None:
        """activity/delete.rb:4-56."""
        object_uri = id_of(activity.get("object"))
        if object_uri is None:
            raise Rejected("no object (activity/delete.rb:21)")
        if object_uri == account.uri:
            raise Rejected("model: deleting an actor is not modelled (activity/delete.rb:5-6)")
        if host(object_uri) == host(account.uri):  # activity/delete.rb:24-33
            self.deleted_first.add((account.uri, object_uri))
            self.tombstones.add(object_uri)
        status = self.statuses.get(object_uri)
        if status is not None and status.account == account.uri and not status.deleted:  # activity/delete.rb:46-55
            self._remove(status)

    def _on_undo(self, activity: dict, account: Account, delivered_to: str | None) -> None:
        """activity/undo.rb:4-39, 72-83."""
        obj = activity.get("object")
        object_uri = id_of(obj)
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "Announce" or kind is None:
            status = self.statuses.get(object_uri or "")
            if status is not None and status.account == account.uri and not status.deleted and (
                    kind == "Announce" or status.reblog_of is not None):
                self._remove(status)
            else:
                self.deleted_first.add((account.uri, object_uri))  # delete_later! activity/undo.rb:79
            return
        raise Rejected(f"model: Undo of {kind} is not modelled (activity/undo.rb:5-18)")

    def _on_accept(self, activity: dict, account: Account, delivered_to: str | None) -> None:
        """activity/accept.rb:4-35: the follow request named by id, else the
        embedded Follow's (follower, target)."""
        obj = activity.get("object")
        by_id = [key for key, follow_id in self.follow_requests.items()
                 if key[1] == account.uri and follow_id == id_of(obj)]
        if not by_id and isinstance(obj, dict) and obj.get("type") == "Follow":
            by_id = [key for key in self.follow_requests if key == (id_of(obj.get("actor")), account.uri)]
        if not by_id:
            raise Rejected("no follow request matches the Accept (activity/accept.rb:6,19-26)")
        for user, target in by_id:
            del self.follow_requests[(user, target)]
            self.following[user].add(target)

    # helpers -----------------------------------------------------------------------------

    def _remove(self, status: Status) -> None:
        """app/services/remove_status_service.rb: its boosts go first (:109-117)."""
        for other in self.statuses.values():
            if other.reblog_of == status.uri:
                other.deleted = True
        status.deleted = True

    def _status_from_uri(self, uri: str) -> Status | None:
        """A known status; a remote uri is looked up without its #fragment
        (app/lib/activitypub/tag_manager.rb:273-289)."""
        if not uri:
            return None
        if uri.startswith(self.origin + "/"):
            return self.statuses.get(uri)
        return self.statuses.get(uri.split("#")[0])

    def _replied_to(self, obj: dict) -> str | None:
        parent = self._status_from_uri(id_of(obj.get("inReplyTo")) or "")  # activity/create.rb:391-405
        return parent.uri if parent is not None else (id_of(obj.get("inReplyTo")) or None)

    def _followed_by_local_accounts(self, account: str) -> bool:
        return any(account in follows for follows in self.following.values())

    def _followers_url(self, account: str) -> str | None:
        known = self.accounts.get(account)
        return known.followers_url if known else None

    def _dereference(self, obj, account: Account):
        """A bare object id is fetched from the actor's origin (activity.rb:133-139)."""
        if not isinstance(obj, str):
            return obj
        if host(obj) != host(account.uri):
            return obj
        return self._fetch_resource(obj) or obj

    def _account(self, uri: str, *, required: bool = True) -> Account | None:
        """A remote actor, fetched once (app/services/activitypub/fetch_remote_account_service.rb)."""
        if uri in self.accounts:
            return self.accounts[uri]
        body = self._fetch_resource(uri) if uri and uri.startswith("http") else None
        if body is None or not includes_any(body.get("type"), ACTOR_TYPES):
            if required:
                raise Rejected(f"cannot fetch the actor {uri} (fetch_remote_actor_service.rb:9)")
            return None
        self.accounts[uri] = _account_of(body)
        return self.accounts[uri]


def _too_old(obj: dict) -> bool:
    try:
        published = dt.datetime.fromisoformat(str(obj.get("published")).replace("Z", "+00:00"))
    except ValueError:
        return False
    return published < dt.datetime.now(dt.timezone.utc) - OBJECT_AGE_THRESHOLD


def _account_of(doc: dict) -> Account:
    inbox = doc.get("inbox")
    return Account(uri=doc["id"], type=str(doc.get("type")), followers_url=doc.get("followers"), inbox=inbox)
