"""Profile pictures: uploaded in settings (cleaned like post images, cropped
square), shown beside names, sent as the Person's `icon`, removed; and, between
two Circles instances on loopback, shown at the other server after the Update."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image

from models.actors import Actor
from models.federation import OutboxEvent
from models.services import media as media_service
from tests import factories
from tests.conftest import csrf_from
from tests.integration.federated import eventually, page_has, post_form
from tests.integration.test_web_media import jpeg_with_gps_and_rotation, png, png_bomb, stored_files
from tests.integration.webforms import logged_in, text
from tests.servers import redirected_to, sign_up

AP = {"Accept": "application/activity+json"}


async def upload(client, picture: bytes, *, filename="me.jpg", content_type="image/jpeg"):
    from werkzeug.datastructures import FileStorage

    token = csrf_from(await text(await client.get("/settings")))
    files = {"avatar": FileStorage(io.BytesIO(picture), filename=filename, content_type=content_type)}
    return await client.post("/settings/avatar", form={"csrf_token": token}, files=files)


def wide_photo() -> bytes:
    """600×300 with EXIF (GPS, camera): red left third, green middle, blue right third."""
    image = Image.new("RGB", (600, 300), "green")
    image.paste((255, 0, 0), (0, 0, 200, 300))
    image.paste((0, 0, 255), (400, 0, 600, 300))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 29.0)})  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    return out.getvalue()


async def test_a_picture_is_cleaned_cropped_shown_and_federated(app, settings, alice):
    client = await logged_in(app, alice)
    form = await text(await client.get("/settings"))
    assert 'action="/settings/avatar" enctype="multipart/form-data"' in form and 'for="f-avatar"' in form
    response = await upload(client, wide_photo())
    assert response.status_code == 302 and response.location == "/settings#avatar-heading", await text(response)

    actor = await Actor.get(id=alice.actor.id)
    [path] = stored_files(settings)
    assert actor.avatar_file == path.name and actor.avatar_url == f"http://circles.test/media/{path.name}"
    data = path.read_bytes()
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (300, 300)  # the centred square of a 600×300 photo
    assert b"SpyCam" not in data and b"Exif" not in data and not stored.getexif()
    middle, edge = stored.convert("RGB").getpixel((150, 150)), stored.convert("RGB").getpixel((2, 150))
    assert middle[1] > 100 and middle[0] < 60, middle  # green centre kept
    assert edge[0] > 150, edge  # the crop starts within the red third: red at its left edge
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=actor.id).count() == 1

    served = await client.get(f"/media/{path.name}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert await served.get_data() == data

    # Decorative beside the name: alt="" on the profile page.
    profile = await text(await client.get("/users/alice"))
    assert f'<img class="avatar" src="{actor.avatar_url}" alt="" width="96" height="96"' in profile

    document = (await client.get("/users/alice", headers=AP))
    icon = (await document.get_json())["icon"]
    assert icon == {"type": "Image", "mediaType": "image/jpeg", "url": actor.avatar_url}

    # A new picture replaces the old one: its file goes.
    response = await upload(client, png(), filename="me.png", content_type="image/png")
    assert response.status_code == 302
    [new_path] = stored_files(settings)
    assert new_path.name != path.name and new_path.suffix == ".png"
    assert (await (await client.get("/users/alice", headers=AP)).get_json())["icon"]["mediaType"] == "image/png"
    assert (await client.get(f"/media/{path.name}")).status_code == 404


async def test_a_picture_beside_a_name_in_a_thread(app, instance, alice):
    circle = await factories.circle(instance, alice, "readers")
    post = await factories.post(instance, alice, circle, body="Hello")
    client = await logged_in(app, alice)
    assert (await upload(client, png())).status_code == 302
    url = (await Actor.get(id=alice.actor.id)).avatar_url
    page = await text(await client.get(f"/posts/{post.id}"))
    assert f'<img class="avatar avatar-small" src="{url}" alt="" width="32" height="32"' in page


async def test_removing_the_picture(app, settings, alice):
    client = await logged_in(app, alice)
    await upload(client, png())
    [path] = stored_files(settings)
    token = csrf_from(await text(await client.get("/settings")))
    response = await client.post("/settings/avatar/remove", form={"csrf_token": token})
    assert response.status_code == 302
    actor = await Actor.get(id=alice.actor.id)
    assert actor.avatar_file is None and actor.avatar_url is None and stored_files(settings) == []
    assert "icon" not in await (await client.get("/users/alice", headers=AP)).get_json()
    assert (await client.get(f"/media/{path.name}")).status_code == 404
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=actor.id).count() == 2
    assert "Remove your picture" not in await text(await client.get("/settings"))


async def test_bad_pictures_are_refused_with_a_reason_and_nothing_is_stored(app, settings, alice):
    client = await logged_in(app, alice)
    cases = [
        (b"%PDF-1.4 not an image", "me.jpg", "That file is not an image we can read"),
        (png_bomb(), "bomb.png", "The image has too many pixels"),
        (b"\xff" * (media_service.MAX_UPLOAD_BYTES + 1), "big.jpg", "The picture is larger than 8 MB"),
        (b"", "none.jpg", "Choose a picture to upload."),
    ]
    for data, filename, message in cases:
        response = await upload(client, data, filename=filename)
        html = await text(response)
        assert response.status_code == 400, (filename, response.status_code)
        assert f'<p class="error" id="f-avatar-error">{message}' in html, filename
        assert 'aria-invalid="true"' in html
    actor = await Actor.get(id=alice.actor.id)
    assert actor.avatar_file is None and actor.avatar_url is None and stored_files(settings) == []
    assert not await OutboxEvent.filter(kind="actor.updated").exists()


async def test_the_other_instance_shows_the_picture_after_the_update(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    ann_at_b = f"/people/ann@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/search", "/search", handle=f"ann@{a_domain}"), ann_at_b)
        redirected_to(await post_form(bea, ann_at_b, f"{ann_at_b}/follow"), ann_at_b)
        await eventually(lambda: page_has(bea, ann_at_b, "You follow ann."), "A accepting Bea's follow", servers)
        assert 'class="avatar' not in (await bea.get(ann_at_b)).text

        token = re.search(r'name="csrf_token" value="([^"]+)"', (await ann.get("/settings")).text).group(1)
        response = await ann.post("/settings/avatar", data={"csrf_token": token},
                                  files={"avatar": ("me.jpg", jpeg_with_gps_and_rotation(), "image/jpeg")})
        redirected_to(response, "/settings#avatar-heading")
        icon = (await ann.get("/users/ann", headers=AP)).json()["icon"]
        assert icon["url"].startswith(f"{a.base_url}/media/")

        # The Update(Person) reaches B, which shows A's address for the picture.
        await eventually(lambda: page_has(bea, ann_at_b, f'src="{icon["url"]}"'), "the Update(Person) reaching B",
                         servers)
        assert f'<img class="avatar" src="{icon["url"]}" alt=""' in (await bea.get(ann_at_b)).text
        assert (await bea.get(icon["url"])).status_code == 200  # the address B shows serves the picture

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
