"""The models refuse what the real servers refuse: small documents, served
by a dictionary instead of HTTP, each breaking one rule. Without these, a
story's "no rejection" would prove little."""

from __future__ import annotations

import copy

from tests.interop.receivers.fetching import Fetched
from tests.interop.receivers.lemmy import LemmyServer
from tests.interop.receivers.mastodon import MastodonServer

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
C = "https://circles.example"
GROUP, ADA = f"{C}/c/circle", f"{C}/users/ada"
M_USER, L_USER = "https://mastodon.example/users/mia", "https://lemmy.example/u/lu"
KEY = {"id": "k", "owner": ADA, "publicKeyPem": "PEM"}


def served(docs: dict):
    def fetch(url: str) -> Fetched:
        if url not in docs:
            return Fetched(url, 404, "text/plain", None)
        return Fetched(url, 200, "application/activity+json; charset=utf-8", {"@context": AS, **docs[url]})
    return fetch


def documents() -> dict:
    group = {"id": GROUP, "type": "Group", "preferredUsername": "circle", "inbox": f"{GROUP}/inbox",
             "outbox": f"{GROUP}/outbox", "followers": f"{GROUP}/followers", "publicKey": {**KEY, "owner": GROUP},
             "endpoints": {"sharedInbox": f"{C}/inbox"}, "language": [{"identifier": "en", "name": "English"}]}
    ada = {"id": ADA, "type": "Person", "preferredUsername": "ada", "inbox": f"{ADA}/inbox", "outbox": f"{ADA}/outbox",
           "publicKey": KEY, "followers": f"{ADA}/followers"}
    page = {"id": f"{C}/posts/1", "type": "Page", "attributedTo": ADA, "name": "Title", "summary": "Short",
            "content": "<p>Long body</p>", "url": f"{C}/posts/1", "to": [PUBLIC, GROUP], "cc": [f"{GROUP}/followers"],
            "audience": GROUP}
    outbox = {"id": f"{GROUP}/outbox", "type": "OrderedCollection", "totalItems": 0, "orderedItems": []}
    return {GROUP: group, ADA: ada, page["id"]: page, outbox["id"]: outbox}


def create(obj: dict, actor: str = ADA) -> dict:
    return {"@context": AS, "id": f"{obj['id']}/activity", "type": "Create", "actor": actor, "to": obj.get("to"),
            "cc": obj.get("cc"), "object": obj}


def announce(inner, suffix: str = "") -> dict:
    inner_id = inner if isinstance(inner, str) else inner["id"]
    return {"@context": AS, "id": f"{GROUP}/announces/{inner_id.rsplit('/', 2)[-2]}{suffix}", "type": "Announce",
            "actor": GROUP, "to": [PUBLIC], "cc": [f"{GROUP}/followers"], "object": inner}


# --- Mastodon ---------------------------------------------------------------------------------


def mastodon(docs: dict) -> MastodonServer:
    server = MastodonServer("https://mastodon.example", [M_USER], served(docs))
    server.follow(M_USER, GROUP, "f1")
    server.receive("/inbox", {"@context": AS, "id": f"{GROUP}#a", "type": "Accept", "actor": GROUP, "object": "f1"},
                   signer=GROUP)
    return server


def test_mastodon_shows_a_page_as_name_summary_and_link_never_content():
    docs = documents()
    server = mastodon(docs)
    assert server.receive("/inbox", announce(f"{C}/posts/1"), signer=GROUP), server.rejections
    status = server.status(f"{C}/posts/1")
    assert status.shown.splitlines() == ["Title", "Short", "circles.example/posts/1"]
    assert [s.reblog_of for s in server.home(M_USER)] == [f"{C}/posts/1"]


def test_mastodon_never_uses_an_embedded_create_it_cannot_fetch():
    docs = documents()
    server = mastodon(docs)
    assert not server.receive("/inbox", announce(create(docs[f"{C}/posts/1"])), signer=GROUP)
    assert "cannot resolve the boosted object" in server.rejections[0].reason


def test_mastodon_drops_a_question_without_content_and_unrelated_creates():
    docs = documents()
    server = mastodon(docs)
    question = {"id": f"{GROUP}/q", "type": "Question", "name": "Poll", "attributedTo": GROUP, "to": [PUBLIC],
                "oneOf": [{"type": "Note", "name": "Yes"}]}
    assert not server.receive("/inbox", create(question, GROUP), signer=GROUP)
    assert "Text can't be blank" in server.rejections[-1].reason
    stranger = {**docs[f"{C}/posts/1"], "id": f"{C}/posts/2"}
    assert not server.receive("/inbox", create(stranger), signer=ADA)  # nobody here follows Ada
    assert "not related to local activity" in server.rejections[-1].reason


def test_mastodon_takes_updates_and_deletes_only_from_the_author():
    docs = documents()
    server = mastodon(docs)
    server.receive("/inbox", announce(f"{C}/posts/1"), signer=GROUP)
    edited = {**docs[f"{C}/posts/1"], "name": "New", "updated": "2030-01-01T00:00:00Z"}
    assert not server.receive("/inbox", {**create(edited, GROUP), "type": "Update", "id": "u1"}, signer=GROUP)
    assert "Uri has already been taken" in server.rejections[-1].reason
    assert server.receive("/inbox", {**create(edited), "type": "Update", "id": "u2"}, signer=ADA)
    assert server.status(f"{C}/posts/1").shown.startswith("New")
    server.receive("/inbox", {"@context": AS, "id": "d1", "type": "Delete", "actor": GROUP, "object": f"{C}/posts/1"},
                   signer=GROUP)
    assert server.status(f"{C}/posts/1") is not None  # not the author's: the copy stays, the uri is tombstoned
    assert f"{C}/posts/1" in server.tombstones


def test_mastodon_takes_an_activity_only_from_its_signer():
    server = mastodon(documents())
    assert not server.receive("/inbox", announce(f"{C}/posts/1"), signer=ADA)
    assert "is not the signer" in server.rejections[-1].reason


# --- Lemmy ------------------------------------------------------------------------------------


def lemmy(docs: dict, version: str) -> LemmyServer:
    server = LemmyServer("https://lemmy.example", [L_USER], served(docs), version=version)
    server.follow(L_USER, GROUP)
    accept = {"id": f"{GROUP}#accept", "type": "Accept", "actor": GROUP,
              "object": {"id": "https://lemmy.example/activities/follow/1", "type": "Follow", "actor": L_USER,
                         "object": GROUP}}
    assert server.receive(accept, signer=GROUP), server.rejections
    return server


def test_lemmy_refuses_a_group_missing_what_its_serde_requires():
    for change, reason in ((lambda g: g["language"].append({"identifier": "fr"}), "LanguageTag needs"),
                           (lambda g: g.update(endpoints={}), "sharedInbox"),
                           (lambda g: g.pop("outbox"), "Group.outbox")):
        docs = documents()
        change(docs[GROUP])
        server = LemmyServer("https://lemmy.example", [L_USER], served(docs), version="0.19")
        try:
            server.dereference_community(GROUP)
        except Exception as error:  # noqa: BLE001
            assert reason in str(error), error
        else:
            raise AssertionError(f"the Group passed without {reason}")


def test_lemmy_receives_an_announced_page_and_refuses_a_bare_one():
    for version in ("0.19", "1.0"):
        docs = documents()
        server = lemmy(docs, version)
        assert server.receive(announce(create(docs[f"{C}/posts/1"])), signer=GROUP), server.rejections
        assert server.post(f"{C}/posts/1").name == "Title" and server.post(f"{C}/posts/1").body == "Long body"
        assert not server.receive(announce({**docs[f"{C}/posts/1"], "actor": ADA}, "#page"), signer=GROUP)
        assert "CannotReceivePage" in server.rejections[-1].reason
        no_cc = announce(create({**docs[f"{C}/posts/1"], "id": f"{C}/posts/3"}))
        del no_cc["cc"]
        assert not server.receive(no_cc, signer=GROUP)
        assert "missing field `cc`" in server.rejections[-1].reason


def test_lemmy_10_refuses_an_announced_top_level_note_that_019_takes_as_a_post():
    docs = documents()
    note = {**docs[f"{C}/posts/1"], "id": f"{C}/posts/4", "type": "Note"}
    del note["name"]
    old, new = lemmy(docs, "0.19"), lemmy(docs, "1.0")
    assert old.receive(announce(create(note)), signer=GROUP) and old.post(note["id"]).name == "Long body"
    assert not new.receive(announce(create(note)), signer=GROUP)
    assert "has no community in 1.0" in new.rejections[-1].reason


def test_lemmy_takes_a_delete_from_a_person_never_from_the_group():
    docs = documents()
    server = lemmy(docs, "0.19")
    server.receive(announce(create(docs[f"{C}/posts/1"])), signer=GROUP)
    by_group = {"id": f"{GROUP}#d", "type": "Delete", "actor": GROUP, "to": [PUBLIC], "object": f"{C}/posts/1",
                "summary": "spam"}
    assert not server.receive(announce(by_group, "#d"), signer=GROUP)
    assert "is a Group, not a Person" in server.rejections[-1].reason
    by_ada = {**by_group, "id": f"{ADA}#d", "actor": ADA}
    assert server.receive(announce(by_ada, "#d2"), signer=GROUP), server.rejections
    assert server.post(f"{C}/posts/1").removed and server.post(f"{C}/posts/1").removal_reason == "spam"


def test_lemmy_019_drops_a_reused_inner_id_and_10_a_private_communitys_public_post():
    docs = documents()
    server = lemmy(docs, "0.19")
    page = docs[f"{C}/posts/1"]
    assert server.receive(announce(create(page)), signer=GROUP)
    assert not server.receive(announce(create({**page, "name": "Again"}), "#2"), signer=GROUP)
    assert "already received" in server.rejections[-1].reason
    private = copy.deepcopy(docs)
    private[GROUP]["manuallyApprovesFollowers"] = True
    server = lemmy(private, "1.0")
    assert server.communities[GROUP].visibility == "Private"
    assert not server.receive(announce(create(page)), signer=GROUP)
    assert "ObjectIsNotPrivate" in server.rejections[-1].reason
