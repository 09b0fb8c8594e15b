"""Notifications and markers (https://docs.joinmastodon.org/methods/notifications/, /methods/markers/).

The notifications are the web's own (models/services/notifications.py),
shaped by notification_entities.py. Dismissing or clearing removes them, as
Mastodon does (app/controllers/api/v1/notifications_controller.rb); either
tells open pages, whose unread count may change.
"""

from __future__ import annotations

from quart import Blueprint, jsonify, request
from tortoise.exceptions import IntegrityError

from models.errors import InvalidInput, NotFound
from models.markers import Marker
from models.notifications import Notification
from models.services import markers as markers_service
from models.services import notifications as notification_service
from models.services import validation
from models.services.markers import TIMELINES
from web.mastodon import auth, pagination
from web.mastodon import params as api_params
from web.mastodon.errors import RECORD_NOT_FOUND
from web.mastodon.params import row_id
from web.mastodon.entities import iso
from web.mastodon.notification_entities import TYPES, kinds_for, notifications, rows_query
from web.site import site

bp = Blueprint("mastodon_notifications", __name__)

# app/controllers/api/v1/notifications_controller.rb: DEFAULT_NOTIFICATIONS_LIMIT, and twice it at most.
DEFAULT_LIMIT = 40
MAX_LIMIT = 80
UNREAD_DEFAULT, UNREAD_MAX = 100, 1000  # unread_count's `limit` (the same controller)


def _filtered(account):
    """`types[]`, `exclude_types[]` and `account_id`, as Notification.browserable reads them."""
    types = request.args.getlist("types[]") or request.args.getlist("types")
    excluded = request.args.getlist("exclude_types[]") or request.args.getlist("exclude_types")
    rows = rows_query(account).filter(kind__in=kinds_for(types, excluded))
    raw_account = request.args.get("account_id", "").strip()
    if raw_account:
        actor_id = validation.whole_number(raw_account)
        rows = rows.filter(actor_id=actor_id if actor_id is not None and validation.is_row_id(actor_id) else 0)
    return rows


@bp.get("/api/v1/notifications")
@auth.scoped("read:notifications")
async def index():
    account = auth.current_account()
    page = pagination.page_params(default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    rows = pagination.newest_first(await pagination.apply(_filtered(account), page), page)
    response = jsonify(await notifications(rows, instance=site().instance, viewer=account))
    if rows:  # the rows read, even those left out: the next page starts after them
        response.headers.update(pagination.link_header(rows[0].id, rows[-1].id))
    return response


@bp.get("/api/v1/notifications/unread_count")
@auth.scoped("read:notifications")
async def unread_count():
    """Unread as the web counts them (read_at), of the kinds the API shows, up to `limit`."""
    asked = validation.whole_number(request.args.get("limit", "").strip())
    limit = min(max(asked, 1), UNREAD_MAX) if asked is not None else UNREAD_DEFAULT
    unread = await rows_query(auth.current_account()).filter(read_at=None).limit(limit).values_list("id", flat=True)
    return jsonify({"count": len(unread)})


async def _own(notification_id: str) -> Notification:
    number = row_id(notification_id)
    row = await rows_query(auth.current_account()).filter(id=number).first() if number is not None else None
    if row is None:
        raise NotFound(RECORD_NOT_FOUND)
    return row


@bp.get("/api/v1/notifications/<notification_id>")
@auth.scoped("read:notifications")
async def show(notification_id: str):
    account = auth.current_account()
    entities = await notifications([await _own(notification_id)], instance=site().instance, viewer=account)
    if not entities:  # its status is gone or no longer readable
        raise NotFound(RECORD_NOT_FOUND)
    return jsonify(entities[0])


@bp.post("/api/v1/notifications/<notification_id>/dismiss")
@auth.scoped("write:notifications")
async def dismiss(notification_id: str):
    row = await _own(notification_id)
    await notification_service.dismiss(auth.current_account(), row.id)
    return jsonify({})


@bp.post("/api/v1/notifications/clear")
@auth.scoped("write:notifications")
async def clear():
    """Those the API shows: kinds only the web page shows stay there (notification_entities.py)."""
    await notification_service.clear(auth.current_account(), TYPES)
    return jsonify({})


# --- markers ---------------------------------------------------------------------------------
# app/controllers/api/v1/markers_controller.rb: read:statuses to read them, write:statuses to set them.


async def _read_up_to(account) -> dict | None:
    """The web's read state as a marker: the newest notification the API shows
    with every one before it read (id and read_at), or None."""
    shown = Notification.filter(recipient=account, kind__in=list(TYPES))
    oldest_unread = await shown.filter(read_at=None).order_by("id").first().values_list("id", flat=True)
    read = shown.filter(read_at__isnull=False)
    if oldest_unread is not None:
        read = read.filter(id__lt=oldest_unread)
    return await read.order_by("-id").first().values("id", "read_at")


async def _markers(account, timelines: list[str]) -> dict:
    stored = {m.timeline: m for m in await Marker.filter(account=account, timeline__in=timelines)}
    answer = {}
    for timeline in timelines:
        marker = stored.get(timeline)
        last_id, moments = (marker.last_read_id, [marker.updated_at]) if marker else (None, [])
        if timeline == "notifications" and (read := await _read_up_to(account)) is not None:
            last_id = read["id"]  # the web's reading counts as much as the apps'
            moments.append(read["read_at"])
        if last_id is not None:
            answer[timeline] = {"last_read_id": str(last_id), "version": marker.version if marker else 0,
                                "updated_at": iso(max(moments))}
    return answer


@bp.get("/api/v1/markers")
@auth.scoped("read:statuses")
async def markers():
    asked = request.args.getlist("timeline[]") or request.args.getlist("timeline")
    return jsonify(await _markers(auth.current_account(), [t for t in TIMELINES if t in asked]))


async def _posted_ids() -> dict[str, int]:
    """`home[last_read_id]` and `notifications[last_read_id]`, from a form or JSON; other timelines are ignored."""
    values = await api_params.read()
    posted = {}
    for timeline in TIMELINES:
        raw = values.get(f"{timeline}[last_read_id]")
        if raw is None:
            continue
        number = validation.whole_number(str(raw).strip())
        if number is None or not validation.is_row_id(number):
            raise InvalidInput("%(name)s must be an id.", field=f"{timeline}[last_read_id]",
                               name=f"{timeline}[last_read_id]")
        posted[timeline] = number
    return posted


@bp.post("/api/v1/markers")
@auth.scoped("write:statuses")
async def set_markers():
    account, posted = auth.current_account(), await _posted_ids()
    try:
        await markers_service.save(account, posted, notification_kinds=TYPES)
    except IntegrityError:  # another request made it at the same moment (Mastodon's StaleObjectError)
        return jsonify({"error": "Conflict during update, please try again"}), 409
    return jsonify(await _markers(account, list(posted)))


