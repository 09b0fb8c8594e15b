"""Cleaning uploaded images (models/services/media.py), without the web."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from models.errors import InvalidInput
from models.services import media


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def test_each_accepted_format_is_re_encoded_without_its_metadata():
    rgb = Image.new("RGB", (10, 8), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    cases = {
        "JPEG": (encoded(rgb, "JPEG", exif=exif, comment=b"hidden"), "image/jpeg", "jpg"),
        "PNG": (encoded(rgb, "PNG", exif=exif), "image/png", "png"),
        "WEBP": (encoded(rgb, "WEBP", exif=exif), "image/webp", "webp"),
        "GIF": (encoded(rgb.convert("P"), "GIF", comment=b"hidden"), "image/png", "png"),
    }
    for fmt, (data, media_type, extension) in cases.items():
        assert b"SpyCam" in data or b"hidden" in data, fmt  # the test input does carry metadata
        clean = media.clean_image(data)
        assert (clean.media_type, clean.extension, clean.width, clean.height) == (media_type, extension, 10, 8), fmt
        assert b"SpyCam" not in clean.data and b"hidden" not in clean.data, fmt
        assert not Image.open(io.BytesIO(clean.data)).getexif(), fmt


def test_a_colour_profile_is_applied_then_dropped():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encoded(Image.new("RGB", (4, 4), (200, 100, 50)), "JPEG", icc_profile=srgb)
    clean = media.clean_image(data)
    assert "icc_profile" in Image.open(io.BytesIO(data)).info  # the input carries a profile
    assert "icc_profile" not in Image.open(io.BytesIO(clean.data)).info and b"acsp" not in clean.data
    # An unreadable profile does not stop the upload.
    broken = encoded(Image.new("RGB", (4, 4)), "PNG", icc_profile=b"not a profile" + srgb[:10])
    assert media.clean_image(broken).media_type == "image/png"


def test_cmyk_jpeg_becomes_rgb():
    clean = media.clean_image(encoded(Image.new("CMYK", (6, 6), (0, 255, 255, 0)), "JPEG"))
    assert Image.open(io.BytesIO(clean.data)).mode == "RGB"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_other_formats_are_refused_even_when_pillow_reads_them(fmt):
    with pytest.raises(InvalidInput) as error:
        media.clean_image(encoded(Image.new("RGB", (8, 8)), fmt))
    assert error.value.field == "image"


async def test_no_file_is_no_image_and_an_image_needs_a_description():
    assert await media.prepare_upload(b"", "") is None
    with pytest.raises(InvalidInput) as error:
        await media.prepare_upload(encoded(Image.new("RGB", (2, 2)), "PNG"), "   ")
    assert error.value.field == "alt"


def test_the_store_names_only_files_it_could_have_written(tmp_path):
    store = media.MediaStore(tmp_path)
    for name in ("../x.jpg", "a/b.jpg", "..", "x.jpg", "A" * 22 + ".svg", "A" * 22 + ".jpg/..", "", None):
        assert store.path_of(name) is None, name
    assert store.path_of("A" * 22 + ".jpg") == tmp_path / ("A" * 22 + ".jpg")
