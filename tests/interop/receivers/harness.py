"""The stage the receiver stories play on: a served Circles, two Fedify peers
(one whose NodeInfo says `mastodon`, one `lemmy`), Ada's browser on Circles,
and the receiver models fed with every activity Circles delivers to each
peer. Reuses the Fedify peer of tests/interop/test_fedify.py."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.interop.receivers.fetching import HttpFetch
from tests.interop.receivers.lemmy import LemmyServer
from tests.interop.receivers.mastodon import MastodonServer
from tests.interop.test_fedify import PEER_DIR, Peer, without_access_log
from tests.servers import csrf, redirected_to, sign_up

WAIT = 25.0  # seconds a federated change may take to arrive


async def start_peer(node: Path, circles, folder: Path, software: str) -> Peer:
    """A Fedify peer whose NodeInfo names `software`."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{software}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIRCLES_", "NODE_", "PEER_"))}
    env.update(CIRCLES_ORIGIN=circles.base_url, PEER_SOFTWARE=software,
               PEER_LOG_LEVEL=os.environ.get("PEER_LOG_LEVEL", "warning"))
    with log.open("wb") as log_file:
        process = subprocess.Popen([str(node), "peer.mjs"], cwd=PEER_DIR, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    peer = Peer(process, log)
    try:
        await peer.wait_until_listening()
    except BaseException:
        peer.stop()
        raise
    return peer


@dataclass
class Side:
    """One peer: its control API, its one user, and the requests already fed to the models."""

    name: str
    peer: Peer
    control: httpx.AsyncClient
    seen: int = 0
    deliveries: list[dict] = field(default_factory=list)  # every inbox POST, as the peer recorded it

    @property
    def origin(self) -> str:
        return self.peer.base_url

    @property
    def user(self) -> str:
        return f"{self.peer.base_url}/users/peer"

    async def state(self) -> dict:
        response = await self.control.get("/_peer/state")
        assert response.status_code == 200, response.text
        return response.json()

    async def command(self, path: str, **args) -> dict:
        response = await self.control.post(path, json=args)
        assert response.status_code == 200, f"{self.name} peer {path}: {response.status_code} {response.text}"
        return response.json()


def _activity_id(request: dict) -> str | None:
    return request["body"].get("id") if isinstance(request["body"], dict) else None


class Stage:
    """Circles, Ada's browser, the two peers and the models of what their
    users see: `mastodon` (Mastodon 4.5+), `lemmy` (0.19) and `lemmy1` (1.0)."""

    def __init__(self, circles, ada: httpx.AsyncClient, mastodon: Side, lemmy: Side) -> None:
        self.circles, self.ada, self.mastodon_side, self.lemmy_side = circles, ada, mastodon, lemmy
        self.domain = urlsplit(circles.base_url).netloc
        self.group = f"{circles.base_url}/c/circle"
        self.fetch = HttpFetch()
        self.mastodon = MastodonServer(mastodon.origin, [mastodon.user], self.fetch)
        self.lemmy = LemmyServer(lemmy.origin, [lemmy.user], self.fetch, version="0.19")
        self.lemmy1 = LemmyServer(lemmy.origin, [lemmy.user], self.fetch, version="1.0")
        self.last_page = ""

    # --- Circles, as Ada uses it -----------------------------------------------------------

    async def form(self, page: str, action: str, client: httpx.AsyncClient | None = None, **fields) -> httpx.Response:
        client = client or self.ada
        token = csrf(await client.get(page))
        return await client.post(action, data={"csrf_token": token, **fields})

    async def open_circle(self) -> None:
        """Ada signs up and starts the open circle @circle."""
        await sign_up(self.ada, "ada")
        response = await self.form("/circles/new", "/circles/new", handle="circle", name="Receiver learners",
                                   join_mode="open", language="en", timezone="UTC")
        redirected_to(response, "/c/circle")

    async def post(self, title: str, body: str) -> str:
        """Ada posts in the circle; returns the post's id (its URL)."""
        response = await self.form("/c/circle/posts/new", "/c/circle/posts/new", title=title, body=body)
        return self.circles.base_url + redirected_to(response, re.compile(r"/posts/\d+"))

    async def page(self, path: str, client: httpx.AsyncClient | None = None) -> str:
        response = await (client or self.ada).get(path)
        self.last_page = f"--- GET {path}: {response.status_code}\n{response.text[-4000:]}"
        assert response.status_code == 200, self.last_page
        return response.text

    # --- the peers ----------------------------------------------------------------------

    async def follow_from_mastodon(self) -> None:
        followed = await self.mastodon_side.command("/_peer/follow", handle=f"@circle@{self.domain}")
        assert followed["found"] and followed["found"]["id"] == self.group, followed
        self.mastodon.follow(self.mastodon_side.user, self.group, followed["follow"])

    async def follow_from_lemmy(self) -> None:
        self.lemmy.follow(self.lemmy_side.user, self.group)
        self.lemmy1.follow(self.lemmy_side.user, self.group)
        followed = await self.lemmy_side.command("/_peer/follow", handle=f"@circle@{self.domain}")
        assert followed["found"] and followed["found"]["id"] == self.group, followed

    async def sync(self) -> None:
        """Feed each model what Circles delivered to its peer since the last call."""
        for side, models in ((self.mastodon_side, [self.mastodon]), (self.lemmy_side, [self.lemmy, self.lemmy1])):
            requests = (await side.state())["inboxRequests"]
            for request in requests[side.seen:]:
                side.deliveries.append(request)
                body = request["body"]
                if not 200 <= request["status"] < 300 or not isinstance(body, dict):
                    continue  # refused by Fedify itself: reported by `deliveries_refused`
                signer = (request.get("keyId") or "").split("#")[0] or None
                for model in models:
                    if isinstance(model, MastodonServer):
                        model.receive(request["path"], body, signer=signer)
                    else:
                        model.receive(body, signer=signer)
            side.seen = len(requests)

    async def eventually(self, check, what: str) -> None:
        """Poll (feeding the models) until `check()` holds, or fail after WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while True:
            await self.sync()
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen within {WAIT} s\n{await self.diagnostics()}")
            await asyncio.sleep(0.25)

    def rejections(self) -> dict[str, list]:
        return {name: model.rejections for name, model in
                (("mastodon", self.mastodon), ("lemmy 0.19", self.lemmy), ("lemmy 1.0", self.lemmy1))
                if model.rejections}

    def deliveries_refused(self) -> list[dict]:
        """Activities a peer never took. The Lemmy peer refuses an RFC 9421
        signature (as Lemmy does) and Circles signs again with draft-cavage:
        only an activity refused every time counts."""
        refused = []
        for side in (self.mastodon_side, self.lemmy_side):
            taken = {_activity_id(r) for r in side.deliveries if 200 <= r["status"] < 300}
            refused += [r for r in side.deliveries if not 200 <= r["status"] < 300 and _activity_id(r) not in taken]
        return refused

    def schemes_taken(self, side: Side) -> set[str]:
        return {r["scheme"] for r in side.deliveries if 200 <= r["status"] < 300}

    async def diagnostics(self) -> str:
        delivered = {side.name: [(r["status"], r["body"].get("type") if isinstance(r["body"], dict) else None,
                                  r["body"].get("id") if isinstance(r["body"], dict) else None)
                                 for r in side.deliveries]
                     for side in (self.mastodon_side, self.lemmy_side)}
        rejections = {name: [vars(r) for r in found] for name, found in self.rejections().items()}
        fetches = [(f.status, f.url) for f in self.fetch.log[-30:]]
        server_log = without_access_log(self.circles.output(tail=10**7))[-5000:]
        return (f"--- deliveries (status, type, id)\n{json.dumps(delivered, indent=1)}\n"
                f"--- rejections\n{json.dumps(rejections, indent=1)}\n--- model fetches (last 30)\n{fetches}\n"
                f"--- Circles {self.circles.base_url}\n{server_log}\n"
                f"--- mastodon peer\n{self.mastodon_side.peer.output(3000)}\n"
                f"--- lemmy peer\n{self.lemmy_side.peer.output(3000)}\n{self.last_page}")

    async def assert_no_rejections(self, *, expected: dict[str, list[str]] | None = None) -> None:
        """Every activity Circles delivered passed Fedify's checks and each
        model's gates, except the rejections `expected` names (model -> reason
        substrings)."""
        await self.sync()
        expected = expected or {}
        unexpected = {
            name: [vars(r) for r in found if not any(part in r.reason for part in expected.get(name, []))]
            for name, found in self.rejections().items()
        }
        unexpected = {name: found for name, found in unexpected.items() if found}
        refused = self.deliveries_refused()
        if unexpected or refused:
            pytest.fail(f"rejected: {json.dumps(unexpected, indent=1)}\nrefused by the peers: "
                        f"{json.dumps(refused, indent=1)[:4000]}\n{await self.diagnostics()}")
