"""Images with posts and replies: checked by decoding, cleaned of metadata,
stored under random names, served safely, deleted with their post."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from models.media import Media
from models.posts import Post
from models.services import media as media_service
from tests import factories
from tests.conftest import csrf_from
from tests.integration.webforms import logged_in, text

GPS = ExifTags.IFD.GPSInfo


def jpeg_with_gps_and_rotation() -> bytes:
    """40×20 pixels, red left half and blue right half, with EXIF saying
    "rotate 90° clockwise to show" (Orientation 6), a camera make and a GPS position."""
    image = Image.new("RGB", (40, 20), "blue")
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SpyCam"
    exif.get_ifd(GPS).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95, comment=b"secret comment")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS), "the test image must carry GPS data"
    return data


def png(size=(30, 30), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 128, 0, 128) if mode == "RGBA" else "green").save(out, format="PNG")
    return out.getvalue()


def png_bomb(width=40_000, height=40_000) -> bytes:
    """A few hundred bytes claiming 1.6 gigapixels: only the header is real."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "readers")


def media_dir(settings) -> Path:
    return Path(settings.media_dir)


def stored_files(settings) -> list[Path]:
    folder = media_dir(settings)
    return sorted(folder.iterdir()) if folder.exists() else []


async def post_with_file(client, path: str, *, image: bytes | None, filename="photo.jpg",
                         content_type="image/jpeg", **fields):
    from werkzeug.datastructures import FileStorage

    token = csrf_from(await text(await client.get("/login")))
    files = {"image": FileStorage(io.BytesIO(image), filename=filename, content_type=content_type)} if image is not None else {}
    return await client.post(path, form={"csrf_token": token, **fields}, files=files)


async def test_an_image_is_stored_without_metadata_and_turned_upright(app, settings, alice, circle):
    client = await logged_in(app, alice)
    form = await text(await client.get("/c/readers/posts/new"))
    assert 'enctype="multipart/form-data"' in form and 'name="image" type="file"' in form
    assert 'for="f-alt"' in form

    original = jpeg_with_gps_and_rotation()
    response = await post_with_file(client, "/c/readers/posts/new", image=original,
                                    title="Our board", body="The whiteboard", alt="A red and blue board")
    assert response.status_code == 302, await text(response)
    post = await Post.get(circle=circle)
    media = await Media.get(post=post)
    assert (media.owner_id, media.media_type, media.alt) == (alice.actor.id, "image/jpeg", "A red and blue board")
    assert (media.width, media.height) == (20, 40)  # upright: the EXIF rotation was applied
    assert media.url == f"http://circles.test/media/{media.file_name}"
    assert media.file_name.endswith(".jpg") and "photo" not in media.file_name

    [path] = stored_files(settings)
    assert path.name == media.file_name
    data = path.read_bytes()
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (20, 40)
    assert not stored.getexif() and "exif" not in stored.info
    assert b"Exif" not in data and b"SpyCam" not in data and b"secret comment" not in data
    assert "icc_profile" not in stored.info and "comment" not in stored.info
    top, bottom = stored.convert("RGB").getpixel((10, 5)), stored.convert("RGB").getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60, top  # the red left half is now on top (turned clockwise)
    assert bottom[2] > 200 and bottom[0] < 60, bottom

    page = await text(await client.get(f"/posts/{post.id}"))
    assert (f'<img src="/media/{media.file_name}" alt="A red and blue board" loading="lazy" decoding="async"'
            ' width="20" height="40">') in page

    served = await client.get(f"/media/{media.file_name}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert await served.get_data() == data


async def test_a_reply_can_carry_an_image(app, settings, instance, alice, circle):
    post = await factories.post(instance, alice, circle)
    client = await logged_in(app, alice)
    response = await post_with_file(client, f"/posts/{post.id}/reply", image=png(), filename="x.png",
                                    content_type="image/png", body="Here it is", alt="A green square")
    assert response.status_code == 302, await text(response)
    reply = await Post.get(in_reply_to=post)
    media = await Media.get(post=reply)
    assert (media.media_type, media.width, media.height) == ("image/png", 30, 30)
    assert Image.open(stored_files(settings)[0]).mode == "RGBA"  # transparency kept


async def test_a_large_image_is_scaled_down(settings, tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (4000, 1000), "white").save(out, format="PNG")
    image = await media_service.prepare_upload(out.getvalue(), "Wide")
    assert (image.width, image.height) == (2048, 512)


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((200, 200), 50).convert("RGB").save(out, format="JPEG")
    return out.getvalue()[:1500]


@pytest.mark.parametrize(
    ("image", "filename", "content_type", "alt", "field", "message"),
    [
        (b"%PDF-1.4 not an image", "photo.jpg", "image/jpeg", "x", "image", "That file is not an image we can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "a.svg", "image/svg+xml",
         "x", "image", "That file is not an image we can read"),
        (truncated_jpeg(), "cut.jpg", "image/jpeg", "x", "image", "That file is not an image we can read"),
        (png_bomb(), "bomb.png", "image/png", "x", "image", "The image has too many pixels"),
        (png_bomb(10_000, 6_000), "big.png", "image/png", "x", "image",
         "The image has too many pixels: at most 50 megapixels. Scale it down first."),
        (b"\xff" * (media_service.MAX_UPLOAD_BYTES + 1), "big.jpg", "image/jpeg", "x", "image",
         "The image is larger than 8 MB: choose a smaller one, or shrink it first."),
        (png(), "fine.png", "image/png", "", "alt", "Describe the image"),
    ],
    ids=["pdf-named-jpg", "svg", "truncated", "bomb", "60-megapixels", "oversized", "no-alt"],
)
async def test_bad_uploads_are_refused_with_a_reason_and_change_nothing(
    app, settings, alice, circle, image, filename, content_type, alt, field, message
):
    client = await logged_in(app, alice)
    response = await post_with_file(client, "/c/readers/posts/new", image=image, filename=filename,
                                    content_type=content_type, title="Kept title", body="Kept body", alt=alt)
    html = await text(response)
    assert response.status_code == 400
    assert f'<p class="error" id="f-{field}-error">{message}' in html
    assert 'value="Kept title"' in html and ">Kept body</textarea>" in html
    assert await Post.all().count() == 0 and await Media.all().count() == 0
    assert stored_files(settings) == []


async def test_a_request_larger_than_any_upload_is_refused(app, settings, alice, circle):
    client = await logged_in(app, alice)
    response = await post_with_file(client, "/c/readers/posts/new", image=b"\0" * (25 * 1024 * 1024), body="x", alt="x")
    assert response.status_code == 413
    assert "an image may be at most 8 MB" in await text(response)
    assert await Post.all().count() == 0 and stored_files(settings) == []


async def test_other_forms_still_refuse_large_bodies(app, settings, alice, circle):
    client = await logged_in(app, alice)
    response = await post_with_file(client, "/c/readers/questions/new", image=b"\0" * (3 * 1024 * 1024),
                                    title="Q?", body="x")
    assert response.status_code == 413
    assert await Post.all().count() == 0


async def test_deleting_a_post_deletes_its_images(app, settings, alice, circle):
    client = await logged_in(app, alice)
    await post_with_file(client, "/c/readers/posts/new", image=png(), filename="a.png", content_type="image/png",
                         body="With a picture", alt="Green")
    post = await Post.get(circle=circle)
    media = await Media.get(post=post)
    assert len(stored_files(settings)) == 1
    token = csrf_from(await text(await client.get(f"/posts/{post.id}")))
    response = await client.post(f"/posts/{post.id}/delete", form={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 302
    assert stored_files(settings) == [] and await Media.all().count() == 0
    assert (await client.get(f"/media/{media.file_name}")).status_code == 404


async def test_a_steward_removing_a_post_removes_its_images(app, settings, instance, alice, circle):
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    await post_with_file(await logged_in(app, bob), "/c/readers/posts/new", image=png(), filename="a.png",
                         content_type="image/png", body="Spam with a picture", alt="An advert")
    post = await Post.get(circle=circle)
    media = await Media.get(post=post)
    steward = await logged_in(app, alice)
    page = f"/c/readers/moderation/posts/{post.id}/remove"
    response = await steward.post(page, form={"csrf_token": csrf_from(await text(await steward.get(page))),
                                              "reason": "Advertising", "confirm": "yes"})
    assert response.status_code == 302
    assert stored_files(settings) == [] and await Media.all().count() == 0
    assert (await steward.get(f"/media/{media.file_name}")).status_code == 404


async def test_a_nul_in_a_media_path_is_refused(app):
    assert (await app.test_client().get("/media/AAAAAAAAAAAAAAAAAAAAAA.jpg%00")).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret_key", "/media/..%2Fsecret_key", "/media/%2e%2e%2fsecret_key", "/media/secret_key",
        "/media/..", "/media/.%2e", "/media/AAAAAAAAAAAAAAAAAAAAAA.jpg",
        "/media/%5c..%5csecret_key", "/media/",
    ],
)
async def test_media_paths_outside_the_store_are_not_found(app, settings, path):
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    (Path(settings.data_dir) / "secret_key").write_text("do not serve")
    media_dir(settings).mkdir(parents=True, exist_ok=True)
    (media_dir(settings) / "AAAAAAAAAAAAAAAAAAAAAA.jpg").write_bytes(b"a file with no row")
    response = await app.test_client().get(path)
    assert response.status_code == 404
    assert b"do not serve" not in await response.get_data()
