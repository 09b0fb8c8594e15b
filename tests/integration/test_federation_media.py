"""Images over federation: our posts carry them as Mastodon's attachments;
a Mastodon post's images are shown from their own server, described."""

from __future__ import annotations

import io
import re

from PIL import Image

from models.media import Media
from models.posts import Post
from tests import factories
from tests.conftest import corpus_json
from tests.integration.test_inbox import REMOTE, follow_of, peer, post_signed, process  # noqa: F401 (peer is a fixture)
from tests.integration.test_web_media import post_with_file
from tests.integration.webforms import logged_in, text

AP = {"Accept": "application/activity+json"}


async def test_our_post_carries_its_image_as_an_attachment(app, instance, alice):
    await factories.circle(instance, alice, "readers")
    client = await logged_in(app, alice)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, format="WEBP")
    response = await post_with_file(client, "/c/readers/posts/new", image=out.getvalue(), filename="a.webp",
                                    content_type="image/webp", body="Look", alt="An orange card")
    assert response.status_code == 302
    post = await Post.get()
    media = await Media.get(post=post)

    note = await (await client.get(f"/posts/{post.id}", headers=AP)).get_json()
    assert note["type"] == "Page" and note["name"] == "Look"  # top-level: a named Page
    assert note["attachment"] == [{
        "type": "Image", "mediaType": "image/webp", "url": f"http://circles.test/media/{media.file_name}",
        "name": "An orange card", "width": 64, "height": 48,
    }]
    # The image is where the attachment says.
    served = await client.get(f"/media/{media.file_name}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"


async def test_a_mastodon_post_with_an_image_is_shown_with_its_description(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)

    note = corpus_json("mastodon/objects_note_2.json")
    [image] = note["attachment"]
    hostile_alt = '"><script>alert(1)</script>'
    note.update(
        id=f"{REMOTE}/statuses/1", attributedTo=rita, to=["https://www.w3.org/ns/activitystreams#Public"], cc=[circle.actor.uri], inReplyTo=None,
        attachment=[
            image,
            {"type": "Document", "mediaType": "image/png", "url": "javascript:alert(1)", "name": "bad"},
            {"type": "Document", "mediaType": "image/png", "url": "https://remote.example/x.png", "name": hostile_alt},
            {"type": "Document", "mediaType": "video/mp4", "url": "https://remote.example/clip.mp4", "name": "A clip"},
        ],
    )
    create = {"id": f"{REMOTE}/statuses/1/activity", "type": "Create", "actor": rita, "object": note,
              "to": note["to"]}
    assert (await post_signed(client, "/inbox", create, key, f"{rita}#main-key")).status_code == 202
    await process(app)

    post = await Post.get(uri=f"{REMOTE}/statuses/1")
    rows = await Media.filter(post=post).order_by("position")
    assert [(m.url, m.file_name, m.width, m.height) for m in rows] == [
        (image["url"], None, 1500, 1095), ("https://remote.example/x.png", None, None, None),
    ]
    page = await text(await client.get(f"/posts/{post.id}"))
    assert (f'<img src="{image["url"]}" alt="{image["name"]}" loading="lazy" decoding="async" '
            'referrerpolicy="no-referrer" width="1500" height="1095">') in page
    assert 'alt="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page  # the description is text
    assert "<script>alert(1)" not in page and "javascript:" not in page
    assert re.search(r'<a href="https://remote.example/clip.mp4"[^>]*>A clip</a>', page)  # not an image: a link

    # An edit that drops the images drops them here too.
    edited = {**note, "attachment": [], "updated": "2030-01-01T00:00:00Z"}
    update = {"id": f"{REMOTE}/statuses/1/update", "type": "Update", "actor": rita, "object": edited}
    assert (await post_signed(client, "/inbox", update, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    assert await Media.filter(post=post).count() == 0
