"""`circles serve` for real: hypercorn in its own process, spoken to over loopback.

The in-process test client runs every request in the task that opened the
database; hypercorn does not (tortoise 1.1 fails queries made outside the task
that called init unless told otherwise), so only this test shows that the
served app can use its database.
"""

from __future__ import annotations

import re

import httpx

from tests.servers import PASSWORD, csrf, redirected_to, sign_up, start_server


async def test_the_served_app_works_end_to_end(database_url, tmp_path):
    server = start_server(database_url, tmp_path)
    base_url = server.base_url
    try:
        await server.wait_until_healthy()

        async with (
            httpx.AsyncClient(base_url=base_url, timeout=10.0) as alice,
            httpx.AsyncClient(base_url=base_url, timeout=10.0) as bob,
        ):
            # Alice signs up, logs out and logs in again.
            await sign_up(alice, "alice")
            token = csrf(await alice.get("/circles"))
            redirected_to(await alice.post("/logout", data={"csrf_token": token}), "/")
            home = await alice.get("/")
            assert "You have logged out." in home.text
            redirected_to(await alice.get("/circles/new"), "/login")  # logged out: the form needs a login

            token = csrf(await alice.get("/login"))
            wrong = await alice.post("/login", data={"csrf_token": token, "login": "alice", "password": "wrong password"})
            assert wrong.status_code == 401
            response = await alice.post("/login", data={"csrf_token": token, "login": "alice", "password": PASSWORD})
            redirected_to(response, "/")
            assert "@alice" in (await alice.get("/")).text

            # She starts a circle and posts in it.
            token = csrf(await alice.get("/circles/new"))
            response = await alice.post(
                "/circles/new",
                data={
                    "csrf_token": token, "handle": "readers", "name": "Readers Club",
                    "purpose": "We read one book a month.", "join_mode": "open",
                    "language": "en", "timezone": "UTC",
                },
            )
            redirected_to(response, "/c/readers")
            circle_page = await alice.get("/c/readers")
            assert circle_page.status_code == 200
            assert "Readers Club" in circle_page.text
            assert "Your circle “Readers Club” is ready." in circle_page.text

            token = csrf(await alice.get("/c/readers/posts/new"))
            response = await alice.post(
                "/c/readers/posts/new",
                data={"csrf_token": token, "title": "First meeting", "body": "We start with **chapter one** on Monday."},
            )
            post_path = redirected_to(response, re.compile(r"/posts/\d+"))

            circle_page = await alice.get("/c/readers")
            assert "First meeting" in circle_page.text
            post_page = await alice.get(post_path)
            assert post_page.status_code == 200
            assert "First meeting" in post_page.text
            assert "<strong>chapter one</strong>" in post_page.text

            # Bob signs up, joins and replies.
            await sign_up(bob, "bob")
            before_joining = await bob.get("/c/readers")
            assert "First meeting" in before_joining.text
            token = csrf(before_joining)
            redirected_to(await bob.post("/c/readers/join", data={"csrf_token": token}), "/c/readers")
            joined = await bob.get("/c/readers")
            assert "You have joined Readers Club." in joined.text
            assert "2 members" in joined.text

            token = csrf(await bob.get(post_path))
            response = await bob.post(f"{post_path}/reply", data={"csrf_token": token, "body": "Count me *in*!"})
            redirected_to(response, re.compile(re.escape(post_path) + r"#post-\d+"))

            # Alice, in her own session, sees the reply.
            thread = await alice.get(post_path)
            assert thread.status_code == 200
            assert "Count me <em>in</em>!" in thread.text
            assert "bob" in thread.text

            # A request without the form's token is refused, not served.
            refused = await bob.post(f"{post_path}/reply", data={"body": "no token"})
            assert refused.status_code == 403

        assert server.process.poll() is None, server.output()
        code = server.stop()
        assert code == 0, f"`circles serve` did not stop cleanly on SIGTERM ({code}):\n{server.output()}"
        output = server.output(tail=10**7)
        assert "Traceback" not in output, server.output()
        assert "Running on" in output
    finally:
        server.stop()


async def test_behind_a_trusted_proxy_login_limits_follow_the_forwarded_address(database_url, tmp_path):
    # Behind nginx every request comes from 127.0.0.1: without trusting the
    # proxy, one person's failed logins would lock everyone out.
    from models.services.accounts import MAX_FAILURES_PER_ADDRESS

    server = start_server(database_url, tmp_path, CIRCLES_TRUSTED_PROXIES="1")
    try:
        await server.wait_until_healthy()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as browser:
            token = csrf(await browser.get("/login"))

            async def attempt(address: str, name: str) -> int:
                # A new name each time: the per-account limit stays out of the way.
                response = await browser.post(
                    "/login", data={"csrf_token": token, "login": name, "password": "wrong password"},
                    headers={"X-Forwarded-For": address},
                )
                return response.status_code

            for n in range(MAX_FAILURES_PER_ADDRESS):
                assert await attempt("203.0.113.7", f"guess{n}") == 401
            assert await attempt("203.0.113.7", "one_more") == 429
            assert await attempt("198.51.100.9", "another") == 401  # someone else is not locked out
    finally:
        server.stop()
