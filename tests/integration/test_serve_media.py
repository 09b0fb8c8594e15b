"""Image uploads through `circles serve` (hypercorn, real Content-Length):
only the pages that take an image accept bodies over 2 MB."""

from __future__ import annotations

import io
import os
import re

import httpx
from PIL import Image

from tests.servers import csrf, redirected_to, sign_up, start_server


def noisy_png() -> bytes:
    """About 3 MB that do not compress: more than any other form may send."""
    out = io.BytesIO()
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(out, format="PNG")
    data = out.getvalue()
    assert len(data) > 2 * 1024 * 1024
    return data


async def test_a_large_image_is_taken_only_where_images_are(database_url, tmp_path):
    server = start_server(database_url, tmp_path)
    try:
        await server.wait_until_healthy()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as alice:
            await sign_up(alice, "alice")
            token = csrf(await alice.get("/circles/new"))
            redirected_to(await alice.post("/circles/new", data={
                "csrf_token": token, "handle": "readers", "name": "Readers", "join_mode": "open",
                "language": "en", "timezone": "UTC",
            }), "/c/readers")

            image = noisy_png()
            response = await alice.post(
                "/c/readers/posts/new", data={"csrf_token": token, "body": "Noise", "alt": "Coloured static"},
                files={"image": ("noise.png", image, "image/png")},
            )
            post_path = redirected_to(response, re.compile(r"/posts/\d+"))
            page = (await alice.get(post_path)).text
            name = re.search(r'<img src="/media/([^"]+)" alt="Coloured static"', page).group(1)
            served = await alice.get(f"/media/{name}")
            assert served.status_code == 200 and served.headers["content-type"] == "image/png"
            assert served.headers["x-content-type-options"] == "nosniff"
            assert (tmp_path / "data" / "media" / name).read_bytes() == served.content

            # A phone photo over the limit: the form comes back with a message, values kept.
            too_big = await alice.post(
                "/c/readers/posts/new", data={"csrf_token": token, "title": "Kept", "body": "x", "alt": "x"},
                files={"image": ("big.jpg", b"\0" * (12 * 1024 * 1024), "image/jpeg")},
            )
            assert too_big.status_code == 400
            assert "The image is larger than 8 MB: choose a smaller one, or shrink it first." in too_big.text
            assert 'value="Kept"' in too_big.text
            # A page without an image field refuses the same body by its Content-Length,
            # before reading it (the client may see the connection close first). The server
            # then closes the connection and says so, so the next request takes a new one.
            try:
                refused = await alice.post(
                    "/c/readers/questions/new", data={"csrf_token": token, "title": "Q?", "body": "x"},
                    files={"image": ("noise.png", image, "image/png")},
                )
                assert refused.status_code == 413 and refused.headers["connection"] == "close"
            except httpx.TransportError:
                pass
            questions = (await alice.get("/c/readers/questions")).text
            assert "Q?" not in questions
            assert len(list((tmp_path / "data" / "media").iterdir())) == 1

            # Sent without a length (chunked), the same body is refused at 2 MB, logged in or not.
            async def chunks():
                for _ in range(48):
                    yield b"x" * 65536

            for path in ("/c/readers/questions/new", "/inbox"):
                try:
                    chunked = await alice.post(path, content=chunks(),
                                               headers={"Content-Type": "application/x-www-form-urlencoded"})
                    assert chunked.status_code == 413 and chunked.headers["connection"] == "close", path
                except httpx.TransportError:
                    pass
            # Someone not logged in may not send an upload page more than any other form.
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as stranger:
                try:
                    anonymous = await stranger.post("/c/readers/posts/new", data={"body": "x", "alt": "x"},
                                                    files={"image": ("noise.png", image, "image/png")})
                    assert anonymous.status_code == 413 and anonymous.headers["connection"] == "close"
                except httpx.TransportError:
                    pass
            assert "Traceback" not in server.output(tail=10**6)
    finally:
        server.stop()
