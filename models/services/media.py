"""Images on posts: checking and cleaning an upload, storing it under a
random name, and the images of remote posts (addresses only).

An upload is decoded by Pillow, never trusted by its name or the browser's
content type. Before any pixel is decoded its dimensions are checked
(decompression bombs); then EXIF orientation is applied, colours are
converted to sRGB, the image is scaled to at most LONGEST_SIDE pixels and
re-encoded from its pixels alone, so EXIF (GPS, camera, times), XMP,
comments and colour profiles do not survive.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import secrets
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from models.actors import Actor
from models.errors import InvalidInput
from models.instance import Instance
from models.media import Media
from models.posts import Post
from models.services import validation
from models.translation import N_

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000  # width × height before decoding (a 50-megapixel photo)
LONGEST_SIDE = 2048  # what we keep: enough for any screen, far smaller than a camera's original
AVATAR_SIDE = 400  # a profile picture's square: sharp at 96 CSS pixels on a 4x screen
ALT_MAX = 1500  # as Mastodon
REMOTE_IMAGES_MAX = 8  # images read from one remote post
# Pillow format -> (media type, extension) of what we store. A GIF keeps its
# first frame, stored as PNG (its transparency kept).
OUTPUT = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/png", "png"),
}
MEDIA_TYPES = {extension: media_type for media_type, extension in OUTPUT.values()}
FILE_NAME_RE = re.compile(r"[A-Za-z0-9_-]{22}\.(?:jpg|png|webp)")

# Messages are literals with parameters, so they reach the translation catalogue (models/errors.py).
TOO_MANY_PIXELS = N_("The image has too many pixels: at most %(max)d megapixels. Scale it down first.")
NOT_AN_IMAGE = N_("That file is not an image we can read. Choose a JPEG, PNG, WebP or GIF image.")


@dataclass(frozen=True)
class CleanImage:
    """An upload, decoded, cleaned and encoded again: ready to store."""

    data: bytes
    media_type: str
    extension: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class RemoteImageInput:
    """An image attached to a remote post: its address (http or https) and
    what it shows. Checked in federation/convert.py."""

    url: str
    media_type: str
    alt: str = ""
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class MediaStore:
    """The media directory (Settings.media_dir); files are named by random tokens."""

    directory: Path

    def path_of(self, file_name: str) -> Path | None:
        """The file for a name we could have given, or None: nothing outside
        the directory can be named (no separators, no dots but the extension)."""
        if not isinstance(file_name, str) or not FILE_NAME_RE.fullmatch(file_name):
            return None
        return self.directory / file_name

    def _write(self, image: CleanImage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_urlsafe(16)}.{image.extension}"
        with open(self.directory / name, "xb") as f:  # never overwrite
            f.write(image.data)
        return name

    async def write(self, image: CleanImage) -> str:
        return await asyncio.to_thread(self._write, image)

    def remove(self, file_names: Iterable[str]) -> None:
        for name in file_names:
            path = self.path_of(name)
            if path is not None:
                path.unlink(missing_ok=True)


async def prepare_upload(data: bytes, alt: str) -> CleanImage | None:
    """An uploaded image and its description, checked and cleaned; None when
    no file was chosen. Raises InvalidInput (field "image" or "alt")."""
    if not data:
        return None
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            "The image is larger than %(max)d MB: choose a smaller one, or shrink it first.",
            field="image", max=MAX_UPLOAD_BYTES // (1024 * 1024),
        )
    alt = validation.text(alt, "alt", label="The image description", max_length=ALT_MAX)
    if not alt:
        raise InvalidInput(
            "Describe the image: people who cannot see it hear or read this description instead.",
            field="alt",
        )
    image = await asyncio.to_thread(clean_image, data)
    return CleanImage(image.data, image.media_type, image.extension, image.width, image.height, alt)


async def prepare_avatar(data: bytes) -> CleanImage:
    """A profile picture: checked and cleaned like any upload, then cropped to
    a centred square of at most AVATAR_SIDE pixels. Raises InvalidInput (field "avatar")."""
    if not data:
        raise InvalidInput("Choose a picture to upload.", field="avatar")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            "The picture is larger than %(max)d MB: choose a smaller one, or shrink it first.",
            field="avatar", max=MAX_UPLOAD_BYTES // (1024 * 1024),
        )
    try:
        return await asyncio.to_thread(clean_image, data, square=AVATAR_SIDE)
    except InvalidInput as error:
        raise InvalidInput(error.template, field="avatar", **error.params) from None


def clean_image(data: bytes, *, square: int | None = None) -> CleanImage:
    """Decode, check and re-encode an image (CPU work: run it in a thread);
    with `square`, cropped to a centred square of at most that many pixels."""
    try:
        # Reads the header only. Pillow itself refuses beyond twice its
        # MAX_IMAGE_PIXELS; our own, lower limit is checked next.
        source = Image.open(io.BytesIO(data))
        if source.format not in OUTPUT:
            raise InvalidInput(NOT_AN_IMAGE, field="image")
        width, height = source.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS:
            raise InvalidInput(TOO_MANY_PIXELS, field="image", max=MAX_PIXELS // 1_000_000)
        if source.format == "JPEG":
            source.draft("RGB", (LONGEST_SIDE, LONGEST_SIDE))  # decode at a smaller scale
        source.load()  # a truncated or corrupt file fails here
        return _encode(source, square)
    except InvalidInput:
        raise
    except Image.DecompressionBombError:
        raise InvalidInput(TOO_MANY_PIXELS, field="image", max=MAX_PIXELS // 1_000_000) from None
    except (
        UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error,
    ) as error:
        log.info("refused an upload: %s", type(error).__name__)
        raise InvalidInput(NOT_AN_IMAGE, field="image") from None


def _encode(source: Image.Image, square: int | None = None) -> CleanImage:
    media_type, extension = OUTPUT[source.format]
    output_format = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[extension]
    image = ImageOps.exif_transpose(source)  # orientation applied, then the tag is gone with the rest
    image = _to_srgb(image, source.info.get("icc_profile"))
    if output_format == "JPEG":
        image = image.convert("L" if image.mode in ("1", "L") else "RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = image.mode in ("PA", "RGBa", "La") or "transparency" in image.info or "A" in image.getbands()
        image = image.convert("RGBA" if has_alpha else "RGB")
    if square:
        side = min(square, image.width, image.height)  # cropped, never enlarged
        image = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    else:
        image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    image.info = {}  # Pillow writes some info back (comments, XMP, ICC for PNG): none of it
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85}, "WEBP": {"quality": 85}, "PNG": {}}[output_format]
    image.save(out, format=output_format, **options)
    return CleanImage(out.getvalue(), media_type, extension, image.width, image.height, alt="")


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels in sRGB, so no colour profile needs to travel with them."""
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are


async def attach(instance: Instance, image: CleanImage, *, owner: Actor, post: Post, file_name: str) -> Media:
    """The row of an image already written to the store. Call in the post's transaction."""
    return await Media.create(
        owner=owner, post=post, file_name=file_name, url=instance.media_url(file_name),
        media_type=image.media_type, width=image.width, height=image.height, alt=image.alt,
    )


async def store_remote(post: Post, owner: Actor, images: Sequence[RemoteImageInput]) -> None:
    """The images of a remote post, replacing any it had. Call in a transaction."""
    await Media.filter(post=post, file_name=None).delete()
    for position, image in enumerate(images[:REMOTE_IMAGES_MAX]):
        await Media.create(
            owner=owner, post=post, url=image.url, media_type=image.media_type[:100],
            width=image.width, height=image.height, alt=image.alt[:ALT_MAX], position=position,
        )


async def media_of(post_ids: Sequence[int]) -> dict[int, list[Media]]:
    """The images of these posts, by post id, in order (one query)."""
    found: dict[int, list[Media]] = {}
    if not post_ids:
        return found
    for media in await Media.filter(post_id__in=list(post_ids)).order_by("position", "id"):
        found.setdefault(media.post_id, []).append(media)
    return found


async def detach_all(post: Post) -> list[str]:
    """Delete a post's image rows; the names of its files, to remove once the
    transaction has committed. Call in a transaction."""
    names = await Media.filter(post=post, file_name__not_isnull=True).values_list("file_name", flat=True)
    await Media.filter(post=post).delete()
    return list(names)


async def is_avatar(file_name: str) -> bool:
    """Whether a stored file is someone's profile picture (served like post images)."""
    return bool(FILE_NAME_RE.fullmatch(file_name or "")) and await Actor.filter(
        avatar_file=file_name, deleted_at=None
    ).exists()


def media_type_of(file_name: str) -> str:
    """The media type of a file we stored, by its extension."""
    return MEDIA_TYPES[file_name.rsplit(".", 1)[1]]


async def by_file_name(file_name: str) -> Media | None:
    if not FILE_NAME_RE.fullmatch(file_name or ""):
        return None
    return await Media.filter(file_name=file_name, post__deleted_at=None).first()
