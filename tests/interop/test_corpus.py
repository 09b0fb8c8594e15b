"""Replay real-world activities into a real `circles serve`.

Every activity of the corpus (tests/fixtures/corpus/: captured from Mastodon,
Lemmy, Mbin, Pleroma, Friendica, PeerTube, Mobilizon, WordPress, Discourse,
...; tests/fixtures/SOURCES.md says where each file came from) and of our own
GoToSocial and Misskey fixtures (tests/fixtures/activities/) is POSTed, signed
(draft-cavage) by its own actor, to the shared inbox of a Circles server on
loopback.

Each origin server is played by tests/interop/corpus_peer.py: its URLs are
rewritten onto a loopback address of its own, where the peer serves an actor
document (with a key we generated) for every actor and every corpus object
at its id. Where it makes sense the activities are aimed at what exists on
Circles: community ids become our open circle, Follow/Block targets our
user, Like/Dislike/Flag targets our post and user, and each actor posting
into the circle joins it first (a signed Follow, listed as a setup step).

Every file must get 202, or a 4xx whose JSON body gives an "error" reason;
never a 5xx or a hang. After the worker has processed everything, no
activity may be left queued or failed and the server log must hold no
traceback. The per-file outcome is printed as a table (visible with -s).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from tests.conftest import CORPUS, FIXTURES
from tests.interop.corpus_peer import GROUP_PATH_RE, URL_RE, CorpusPeer, canonical, origin_of
from tests.servers import csrf, redirected_to, sign_up, start_server

FIXTURE_GLOBS = ("gotosocial_*.json", "misskey_*.json")

REQUEST_TIMEOUT = 20.0  # seconds for one POST: more is a hang
PROCESS_TIMEOUT = 45.0  # seconds for the worker to process everything

# Types that are things, not activities (a file with one of these is skipped and counted,
# even when it carries an `actor`, as Mobilizon's Event and Pleroma's Note do).
OBJECT_TYPES = frozenset({
    "Note", "Page", "Article", "Question", "Event", "Video", "Audio", "Image", "Document", "Place",
    "Profile", "Relationship", "Tombstone", "ChatMessage", "Link", "Mention", "Hashtag", "Emoji",
    "Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage",
    "Person", "Group", "Service", "Application", "Organization",
})
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Organization"})  # Groups are communities
POST_TYPES = frozenset({"Note", "Page", "Article", "Question", "Event", "Video", "Audio", "Image", "ChatMessage"})
# Replay order: a plausible timeline (follows before posts, posts before replies,
# reactions, moderation, then undos and deletes).
PHASE_ONE = {"Follow": 0, "Accept": 1, "Reject": 1, "Create": 2, "Update": 3, "Announce": 4,
             "Like": 5, "Dislike": 5, "EmojiReact": 5}
PHASE_TWO = {"Undo": 10, "Delete": 11, "Move": 12}
FOLLOWERS_PATH_RE = re.compile(r"^/(c|m)/[^/]+/followers/?$")
LOOPBACK_OK = frozenset({"www.w3.org", "w3id.org"})  # vocabulary (the Public collection), never fetched
PERSON_PATH_RE = re.compile(r"^/(u|users|user|profile|accounts|actor|@)[/@]?")


@dataclass
class Local:
    """What exists on Circles for the corpus to aim at."""
    user: str
    circle: str
    circle_followers: str
    post: str
    circle_path: str
    post_path: str


@dataclass
class Replay:
    name: str
    original: dict
    activity: dict = field(default_factory=dict)
    body: bytes = b""
    status: int | None = None
    reason: str = ""
    state: str = "-"
    error: str = ""
    setup: bool = False
    answer: object = None
    ms: int | None = None  # how long the POST took

    @property
    def type(self) -> str:
        return str(self.original.get("type"))[:20]

    @property
    def activity_id(self) -> str | None:
        return self.activity.get("id") if isinstance(self.activity.get("id"), str) else None


def id_of(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    if isinstance(value, list) and value:
        return id_of(value[0])
    return None


def as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def is_activity(doc) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("type"), str) and doc["type"] not in OBJECT_TYPES
            and id_of(doc.get("actor")) is not None)


def walk(value):
    """Every dict inside `value` (itself included), skipping @context."""
    if isinstance(value, dict):
        yield value
        for key, item in value.items():
            if key != "@context":
                yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def urls_in(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "@context":
                yield from urls_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from urls_in(item)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        yield value


def every_url_in(value):
    """Every http(s) URL anywhere in the strings of `value` (HTML too), skipping @context."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "@context":
                yield from every_url_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from every_url_in(item)
    elif isinstance(value, str):
        yield from URL_RE.findall(value)


def _on_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host in LOOPBACK_OK or host.startswith("127.")


def load_documents() -> list[tuple[str, object]]:
    """(name, parsed JSON) of every corpus file, then of our fixtures."""
    found: list[tuple[str, object]] = []
    corpus_files = sorted(CORPUS.rglob("*.json"))
    assert corpus_files, f"no corpus documents under {CORPUS}"
    for path in corpus_files:
        found.append((str(path.relative_to(CORPUS)), _read(path)))
    for pattern in FIXTURE_GLOBS:
        for path in sorted((FIXTURES / "activities").glob(pattern)):
            doc = _read(path)
            if isinstance(doc, dict):
                doc.pop("_comment", None)  # where the shape comes from: not part of the payload
            found.append((f"fixtures/{path.name}", doc))
    return found


def _read(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        return {"__unreadable__": str(error)}


# --- aiming the corpus at Circles ------------------------------------------------------


class Aim:
    """Per-file maps from corpus URLs (canonical form) to local ids."""

    def __init__(self, documents: list[tuple[str, object]], local: Local) -> None:
        self.local = local
        self.groups: set[str] = set()
        self.actors: set[str] = set()
        for _, doc in documents:
            for found in walk(doc):
                if found.get("type") == "Group" and isinstance(found.get("id"), str):
                    self.groups.add(canonical(found["id"]))
                if found.get("type") in ACTOR_TYPES and isinstance(found.get("id"), str):
                    self.actors.add(canonical(found["id"]))
                if is_activity(found):
                    self.actors.add(canonical(id_of(found["actor"])))

    def is_community(self, url: str | None) -> bool:
        if not url or canonical(url) is None:
            return False
        return canonical(url) in self.groups or bool(GROUP_PATH_RE.match(urlsplit(url).path))

    def looks_like_person(self, url: str) -> bool:
        return canonical(url) in self.actors or bool(PERSON_PATH_RE.match(urlsplit(url).path))

    def map_for(self, activity: dict) -> dict[str, str]:
        local = self.local
        mapping: dict[str, str] = {}
        actor = id_of(activity.get("actor"))
        if not self.is_community(actor):
            # A person addressing a community: the community is our circle.
            for url in urls_in(activity):
                if self.is_community(url):
                    mapping[canonical(url)] = local.circle
                elif FOLLOWERS_PATH_RE.match(urlsplit(url).path):
                    mapping[canonical(url)] = local.circle_followers
        for act in walk(activity):
            if not isinstance(act.get("type"), str) or act["type"] in OBJECT_TYPES or "object" not in act:
                continue  # not an activity (inner activities may omit their actor)
            kind, obj = act.get("type"), act.get("object")
            target = id_of(obj) if not isinstance(obj, list) else None
            if kind == "Follow" and target and not self.is_community(target):
                mapping[canonical(target)] = local.user
            elif kind == "Block" and target and "target" not in act:
                mapping[canonical(target)] = local.user  # a personal block (Lemmy's with a target is a ban)
            elif kind in ("Like", "Dislike", "EmojiReact") and target:
                mapping[canonical(target)] = local.post
            elif kind == "Flag":
                for item in as_list(obj):
                    ref = id_of(item)
                    if ref and not self.is_community(ref):
                        mapping[canonical(ref)] = local.user if self.looks_like_person(ref) else local.post
            elif kind in ("Accept", "Reject") and isinstance(obj, dict) and obj.get("type") == "Follow":
                follower = id_of(obj.get("actor"))
                if follower:
                    mapping[canonical(follower)] = local.user  # "our" user's follow being answered
        mapping.pop(canonical(actor) if actor else None, None)  # the sender stays the sender
        return mapping


def addresses(obj: dict) -> set[str]:
    return {id_of(v) for f in ("to", "cc", "audience") for v in as_list(obj.get(f))} - {None}


# --- talking to Circles -----------------------------------------------------------------


async def post_form(client: httpx.AsyncClient, form_page: str, action: str, **fields) -> httpx.Response:
    token = csrf(await client.get(form_page))
    return await client.post(action, data={"csrf_token": token, **fields})


async def prepare_local(server) -> Local:
    """A user, an open circle and a post in it, made through the web UI."""
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as web,
        httpx.AsyncClient(base_url=server.base_url, timeout=10.0,
                          headers={"Accept": "application/activity+json"}) as ap,
    ):
        await sign_up(web, "corpus")
        redirected_to(await post_form(web, "/circles/new", "/circles/new", handle="learners", name="Corpus learners",
                                      join_mode="open", language="en", timezone="UTC"), "/c/learners")
        response = await post_form(web, "/c/learners/posts/new", "/c/learners/posts/new",
                                   title="A local post to react to", body="Like me, flag me.")
        post_path = redirected_to(response, re.compile(r"/posts/\d+"))
        group = (await ap.get("/c/learners")).json()
        person = (await ap.get("/users/corpus")).json()
        post = (await ap.get(post_path)).json()
    return Local(user=person["id"], circle=group["id"], circle_followers=group["followers"], post=post["id"],
                 circle_path="/c/learners", post_path=post_path)


async def send(client: httpx.AsyncClient, peer: CorpusPeer, inbox_url: str, replay: Replay) -> None:
    actor = id_of(replay.activity.get("actor"))
    headers = peer.signed_post_headers(actor, inbox_url, replay.body)
    started = time.monotonic()
    try:
        response = await client.post(inbox_url, content=replay.body, headers=headers)
    except httpx.TimeoutException:
        replay.status, replay.reason = None, f"no answer within {REQUEST_TIMEOUT} s"
        return
    except httpx.TransportError as error:
        replay.status, replay.reason = None, f"transport error: {error!r}"
        return
    replay.status = response.status_code
    replay.ms = round((time.monotonic() - started) * 1000)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        replay.reason = str(answer.get("error") or answer.get("status") or answer)[:300]
    else:
        replay.reason = f"(not a JSON object) {response.text[:200]!r}"
    replay.answer = answer


def answer_ok(replay: Replay) -> bool:
    if replay.status == 202:
        return True
    answer = replay.answer
    return (replay.status is not None and 400 <= replay.status < 500 and isinstance(answer, dict)
            and isinstance(answer.get("error"), str) and bool(answer["error"]))


async def inbox_rows(database_url: str) -> dict[str, tuple[str, str, int]]:
    """activity id -> (state, error, attempts), read without writing."""
    query = "SELECT activity_id, state, error, attempts FROM inbox_items"
    if database_url.startswith("sqlite://"):
        path = database_url[len("sqlite://"):]
        for _ in range(20):
            try:
                with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
                    return {row[0]: (row[1], row[2] or "", row[3]) for row in conn.execute(query)}
            except sqlite3.OperationalError:
                await asyncio.sleep(0.1)
        raise AssertionError("cannot read the SQLite database")
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        async with conn.transaction(readonly=True):
            return {r["activity_id"]: (r["state"], r["error"] or "", r["attempts"]) for r in await conn.fetch(query)}
    finally:
        await conn.close()


async def wait_processed(database_url: str) -> tuple[dict, float]:
    """Poll until nothing is queued (or the timeout); returns the rows and the wait."""
    started = time.monotonic()
    while True:
        rows = await inbox_rows(database_url)
        if not any(state == "queued" for state, _, _ in rows.values()):
            return rows, time.monotonic() - started
        if time.monotonic() - started > PROCESS_TIMEOUT:
            return rows, time.monotonic() - started
        await asyncio.sleep(0.25)


# --- the report -----------------------------------------------------------------------------


def table(replays: list[Replay]) -> str:
    lines = [f"{'file':62} {'type':10} {'HTTP':4} {'ms':>5}  {'answer':44} {'processed':9} error"]
    for r in replays:
        name = ("(setup) " if r.setup else "") + r.name
        lines.append(f"{name[:62]:62} {r.type[:10]:10} {r.status or '---'!s:4} {r.ms or ''!s:>5}  {r.reason[:44]:44} "
                     f"{r.state:9} {r.error[:110]}")
    return "\n".join(lines)


def summary(replays: list[Replay], skipped: list[tuple[str, str]], peer: CorpusPeer, timings: dict[str, float]) -> str:
    sent = [r for r in replays if not r.setup]
    statuses = collections.Counter(str(r.status) for r in sent)
    refusals = collections.Counter(f"{r.status} {r.reason}" for r in sent if r.status != 202)
    accepted = collections.Counter(r.reason for r in sent if r.status == 202)
    states = collections.Counter(r.state for r in sent if r.status == 202)
    reasons = collections.Counter(re.sub(r"https?://\S+", "<url>", r.error)[:100]
                                  for r in sent if r.state == "ignored" and r.error)
    skipped_types = collections.Counter(t for _, t in skipped)
    out = [
        (f"activities replayed: {len(sent)} (+{len(replays) - len(sent)} setup joins); "
        f"files skipped as objects/collections: {len(skipped)} {dict(skipped_types)}"),
        f"HTTP: {dict(statuses)}",
        f"202 answers: {dict(accepted)}",
        "4xx reasons:" + "".join(f"\n  {n} x {reason}" for reason, n in refusals.most_common()),
        f"processing of accepted ones: {dict(states)}",
        "ignored because:" + "".join(f"\n  {n} x {reason}" for reason, n in reasons.most_common()),
        (f"peer: {len(peer.origins)} origins, {len(peer.actors)} actors, {len(peer.documents)} documents; "
        f"Circles fetched {sum(1 for m, _, _ in peer.requests if m == 'GET')} times and delivered "
        f"{len(peer.received)} activities to the peer"),
        "seconds: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items()),
    ]
    return "\n".join(out)


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture
async def circles(make_database, tmp_path):
    database_url = await make_database("corpus")
    server = start_server(database_url, tmp_path / "circles", CIRCLES_ALLOW_PRIVATE_ADDRESSES="true")
    try:
        await server.wait_until_healthy()
        yield server, database_url
    finally:
        server.stop()


@pytest.fixture
def peer():
    made = CorpusPeer()
    made.start()
    yield made
    made.stop()


async def test_every_corpus_activity_gets_a_clean_answer(circles, peer):
    server, database_url = circles
    timings: dict[str, float] = {}
    started = time.monotonic()
    documents = load_documents()
    local = await prepare_local(server)
    aim = Aim(documents, local)

    replays: list[Replay] = []
    skipped: list[tuple[str, str]] = []
    for name, doc in documents:
        if is_activity(doc):
            replays.append(Replay(name, doc))
        else:
            kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
            skipped.append((name, str(kind) if "__unreadable__" not in doc else "unreadable"))

    # Rewrite every file onto the peer, aimed at the local ids where it makes sense.
    rewritten_objects = [peer.rewrite(doc) for _, doc in documents if isinstance(doc, dict) and not is_activity(doc)]
    for replay in replays:
        replay.activity = peer.rewrite(replay.original, aim.map_for(replay.original))
        replay.body = json.dumps(replay.activity).encode()

    # Serve every corpus object at its id, and an actor (with a key) for every actor.
    for doc in rewritten_objects:
        peer.add_document(doc)
    for replay in replays:
        peer.add_document(replay.activity)
    everything = rewritten_objects + [r.activity for r in replays]
    for found in (d for doc in everything for d in walk(doc)):
        if found.get("type") in ACTOR_TYPES | {"Group"} and isinstance(found.get("id"), str) \
                and peer.is_peer_url(found["id"]):
            peer.add_actor(found["id"], template=found)
    group_senders = {id_of(r.activity["actor"]) for r in replays
                     if r.original.get("type") == "Announce" and isinstance(r.original.get("object"), dict)
                     and is_activity(r.original["object"])}  # FEP-1b12: groups announce activities
    for found in (d for doc in everything for d in walk(doc)):
        authors = [id_of(found.get("actor"))] if is_activity(found) else []
        if found.get("type") in POST_TYPES:
            authors += [id_of(a) for a in as_list(found.get("attributedTo"))]
        for uri in authors:
            if uri and peer.is_peer_url(uri):
                peer.add_actor(uri, kind="Group" if uri in group_senders else None)

    # Nothing may lead Circles off loopback: every URL left is ours, the peer's, or vocabulary.
    stray = {url for doc in everything + list(peer.actors.values()) for url in every_url_in(doc)
             if not _on_loopback(url)}
    assert not stray, f"URLs off loopback left in the replayed documents: {sorted(stray)[:20]}"

    # Setup: whoever posts into the circle joins it first (an open circle accepts follows).
    joins: list[Replay] = []
    for replay in replays:
        act = replay.activity
        obj = act.get("object")
        actor = id_of(act.get("actor"))
        if act.get("type") == "Create" and isinstance(obj, dict) and local.circle in addresses(obj) \
                and actor in peer.keys and actor not in {id_of(j.activity["actor"]) for j in joins}:
            origin = origin_of(actor)
            follow = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Follow", "actor": actor,
                      "object": local.circle, "id": f"{peer.base_of(_original_origin(actor))}/corpus-join/{len(joins)}"}
            assert origin_of(follow["id"]) == origin
            joins.append(Replay(f"join {actor.split('/', 3)[-1]}", follow, follow, json.dumps(follow).encode(),
                                setup=True))

    def order(replay: Replay) -> tuple:
        kind = replay.activity.get("type")
        obj = replay.activity.get("object")
        is_reply = isinstance(obj, dict) and obj.get("inReplyTo") is not None
        return (PHASE_ONE.get(kind, PHASE_TWO.get(kind, 6)), is_reply, replay.name)

    phase_one = sorted((r for r in replays if r.activity.get("type") not in PHASE_TWO), key=order)
    phase_two = sorted((r for r in replays if r.activity.get("type") in PHASE_TWO), key=order)
    aimed = [r for r in phase_one if r.activity.get("type") == "Create" and isinstance(r.activity.get("object"), dict)
             and local.circle in addresses(r.activity["object"])]
    timings["setup"] = time.monotonic() - started
    inbox_url = f"{server.base_url}/inbox"
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        started = time.monotonic()
        for replay in joins + phase_one:
            await send(client, peer, inbox_url, replay)
        timings["phase one"] = time.monotonic() - started
        rows, timings["worker, phase one"] = await wait_processed(database_url)
        # What Circles shows of the posts aimed at the circle: its outbox, and the
        # Announces it sent its followers (replies are not in the outbox).
        landed = await in_circle(local, peer, {_object_id(r) for r in aimed
                                                       if rows.get(r.activity_id, ("",))[0] == "done"})
        started = time.monotonic()
        for replay in phase_two:
            await send(client, peer, inbox_url, replay)
        timings["phase two"] = time.monotonic() - started
        rows, timings["worker, phase two"] = await wait_processed(database_url)

    ordered = joins + phase_one + phase_two
    for replay in ordered:
        if replay.activity_id in rows:
            replay.state, replay.error, _ = rows[replay.activity_id]
    log = server.output(tail=10**8)
    report = summary(ordered, skipped, peer, timings)
    landing = "Creates aimed at the circle (after phase one; state, and whether the circle shows/announces it):" + "".join(
        f"\n  {r.state:8} {'in circle' if _object_id(r) in landed else 'NOT shown':9} {r.name}" for r in aimed)
    not_replayed = "skipped, not activities:" + "".join(f"\n  {kind:18} {name}" for name, kind in skipped)
    print("\n" + table(ordered) + "\n\n" + not_replayed + "\n\n" + report + "\n" + landing)

    hidden = [r for r in aimed if r.state == "done" and _object_id(r) not in landed]
    bad_answers = [r for r in ordered if not answer_ok(r)]
    unprocessed = [r for r in ordered if r.state in ("queued", "failed")]
    failures = []
    if bad_answers:
        failures.append("answers that are neither 202 nor a 4xx with an error reason:\n" + table(bad_answers))
    if unprocessed:
        failures.append("activities left queued or failed by the worker:\n" + table(unprocessed))
    if hidden:
        failures.append("posts stored in the circle that it neither shows nor announces:\n" + table(hidden))
    if "Traceback" in log:
        failures.append("tracebacks in the server log:\n" + _tracebacks(log))
    assert not failures, report + "\n\n" + "\n\n".join(failures)


def _object_id(replay: Replay) -> str | None:
    return id_of(replay.activity.get("object"))


async def in_circle(local: Local, peer: CorpusPeer, expected: set[str], wait: float = 30.0) -> set[str]:
    """Ids of the posts the circle shows in its outbox or has announced to the
    peer, waiting (for deliveries) until `expected` are all there or `wait` passed."""
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(timeout=10.0, headers={"Accept": "application/activity+json"}) as ap:
        while True:
            found: set[str] = set()
            url: str | None = f"{local.circle}/outbox?page=true"
            for _ in range(20):
                if url is None:
                    break
                page = (await ap.get(url)).json()
                for item in page.get("orderedItems", []):
                    create = item.get("object") if isinstance(item, dict) else None
                    found |= {id_of(create), id_of(create.get("object")) if isinstance(create, dict) else None}
                url = page.get("next")
            with peer._lock:
                bodies = [body for _, body in peer.received]
            for body in bodies:
                try:
                    sent = json.loads(body)
                except ValueError:
                    continue
                if sent.get("type") == "Announce" and sent.get("actor") == local.circle:
                    inner = sent.get("object")
                    found |= {id_of(inner), id_of(inner.get("object")) if isinstance(inner, dict) else None}
            found.discard(None)
            if expected <= found or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.25)


def _original_origin(rewritten: str) -> str:
    """'http://127.0.1.4:PORT/enterprise.lemmy.ml/u/x' -> 'enterprise.lemmy.ml'."""
    return rewritten.split("/", 4)[3]


def _tracebacks(log: str, limit: int = 6000) -> str:
    heads = []
    for match in re.finditer(r"^.*\n?Traceback \(most recent call last\):\n(?:[ \t].*\n)*.*$", log, re.MULTILINE):
        heads.append(match.group(0)[-1500:])
    text = "\n---\n".join(heads) or log[-limit:]
    return text[:limit]
