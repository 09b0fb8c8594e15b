"""Uploaded images: reading one from a form, and serving the stored files."""

from __future__ import annotations

from quart import Blueprint, abort, current_app, request, send_file, session
from werkzeug.exceptions import RequestEntityTooLarge

from models.services import media as media_service

bp = Blueprint("media", __name__)

# Pages whose forms take an image: their requests may be as large as an image
# plus the form (web/html/__init__.py refuses larger bodies everywhere else).
UPLOAD_ENDPOINTS = frozenset({"circles.create_post", "posts.reply", "settings.upload_avatar"})
FORM_BODY_MAX = 2 * 1024 * 1024  # any other form
# An upload page reads a body this large to its end (the file is spooled to disk,
# at most MAX_UPLOAD_BYTES + 1 of it read), so an image over the limit gets the
# form back with a message and the values kept: a server that answers before it
# has read the body is seen by browsers as a reset connection.
UPLOAD_BODY_MAX = 24 * 1024 * 1024
CACHE_FOREVER = "public, max-age=31536000, immutable"  # a name is never reused for other bytes


async def limit_body() -> None:
    """MAX_CONTENT_LENGTH (server/app.py) lets an image through, to the upload
    pages of someone logged in; every other request is held to FORM_BODY_MAX:
    refused by its Content-Length before its body is read, or (sent without one)
    as soon as what has arrived passes the limit."""
    if request.endpoint in UPLOAD_ENDPOINTS and isinstance(session.get("account_id"), int):
        return  # (the login and CSRF checks come once the form is parsed)
    if request.content_length is not None:
        if request.content_length > FORM_BODY_MAX:
            raise RequestEntityTooLarge()
        return
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    # Quart fixed this body's limit when the request was made; lowered, what arrives
    # after the limit is not buffered (a private attribute: Quart has no setter).
    if hasattr(request.body, "_max_content_length"):
        request.body._max_content_length = FORM_BODY_MAX
    received = bytearray()  # counted as it arrives, never held whole beyond the limit
    async for chunk in request.body:
        received += chunk
        if len(received) > FORM_BODY_MAX:
            raise RequestEntityTooLarge()
    request.body.set_result(bytes(received))  # what was read stays readable (form, JSON)


def media_store() -> media_service.MediaStore:
    return current_app.extensions["circles.media"]


async def uploaded_image(form) -> media_service.CleanImage | None:
    """The image chosen in the form's `image` field, checked and cleaned with
    its `alt` text, or None when none was chosen. Raises InvalidInput."""
    upload = (await request.files).get("image")
    if upload is None:
        return None
    data = upload.read(media_service.MAX_UPLOAD_BYTES + 1)
    return await media_service.prepare_upload(data, form.get("alt", ""))


async def uploaded_avatar() -> media_service.CleanImage:
    """The picture chosen in the form's `avatar` field, checked and cleaned.
    Raises InvalidInput."""
    upload = (await request.files).get("avatar")
    data = upload.read(media_service.MAX_UPLOAD_BYTES + 1) if upload is not None else b""
    return await media_service.prepare_avatar(data)


@bp.get("/media/<name>")
async def show(name: str):
    path = media_store().path_of(name)  # None for any name we could not have given
    if path is None or not path.is_file():
        abort(404)
    if await media_service.by_file_name(name) is None and not await media_service.is_avatar(name):
        abort(404)
    response = await send_file(path, mimetype=media_service.MEDIA_TYPES[name.rsplit(".", 1)[1]])
    response.headers["Cache-Control"] = CACHE_FOREVER
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
