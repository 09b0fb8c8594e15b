"""What the server says about itself to apps: /api/v1/instance,
/api/v2/instance, peers, custom emojis, rules
(https://docs.joinmastodon.org/methods/instance/).

Shapes follow Mastodon's app/serializers/rest/instance_serializer.rb (v2) and
rest/v1/instance_serializer.rb; the limits are our services' own, so an app
never offers what a service would refuse.
"""

from __future__ import annotations

from quart import Blueprint

from federation.routes import software_version
from models.accounts import Account, AccountState, RegistrationMode
from models.federation import RemoteHost
from models.services import media, posts, remote_polls, stats
from web import i18n
from web.mastodon import auth, entities
from web.site import site

bp = Blueprint("mastodon_instance", __name__)

# Apps (Mastodon.py, Tusky...) read the Mastodon version to know what they may
# call; the "compatible" form is what other servers that speak the API use.
MASTODON_VERSION = "4.3.0"
API_VERSION = 2  # Mastodon 4.3's api_versions.mastodon
MAX_MEDIA_ATTACHMENTS = 1  # a post here carries one image (models/services/posts.py, `attach`)
# Mastodon's poll durations (app/validators/poll_options_validator.rb); the
# option limits are those we keep of a poll (models/services/remote_polls.py).
POLL_MIN_EXPIRATION, POLL_MAX_EXPIRATION = 300, 2_629_746
PEERS_MAX = 10_000


def version() -> str:
    return f"{MASTODON_VERSION} (compatible; Circles {software_version()})"


def _registrations() -> tuple[bool, bool]:
    """Whether anyone may sign up (an invite-only server says no, as Mastodon's
    does for its "none" mode), and whether an admin must approve them."""
    mode = site().registration
    return mode in (RegistrationMode.OPEN, RegistrationMode.APPROVAL), mode is RegistrationMode.APPROVAL


def _streaming_url() -> str:
    instance = site().instance
    return f"{'wss' if instance.scheme == 'https' else 'ws'}://{instance.domain}"


def _media_limits() -> dict:
    return {
        "supported_mime_types": sorted(set(media.MEDIA_TYPES.values()) | {"image/gif"}),
        "description_limit": media.ALT_MAX,
        "image_size_limit": media.MAX_UPLOAD_BYTES,
        "image_matrix_limit": media.MAX_PIXELS,
        "video_size_limit": 0,  # no video here
        "video_frame_rate_limit": 0,
        "video_matrix_limit": 0,
    }


def _poll_limits() -> dict:
    return {
        "max_options": remote_polls.MAX_OPTIONS,
        "max_characters_per_option": remote_polls.OPTION_MAX,
        "min_expiration": POLL_MIN_EXPIRATION,
        "max_expiration": POLL_MAX_EXPIRATION,
    }


def _status_limits() -> dict:
    return {
        "max_characters": posts.BODY_MAX,
        "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
        "characters_reserved_per_url": 23,  # Mastodon's URL_PLACEHOLDER_CHARS; we count links as typed
    }


async def _contact() -> dict | None:
    """The longest-standing active admin, as an Account entity."""
    admin = await Account.filter(is_admin=True, state=AccountState.ACTIVE).select_related("actor").order_by("id").first()
    if admin is None:
        return None
    viewer = auth.current_account()
    return (await entities.accounts([admin.actor], instance=site().instance, viewer=viewer))[0]


def _description() -> str:
    return f"{site().name}: learning circles that meet, read and think together, here and on other servers."


@bp.get("/api/v2/instance")
async def instance_v2():
    instance = site().instance
    enabled, approval = _registrations()
    usage = await stats.usage()
    contact = await _contact()
    return {
        "domain": instance.domain,
        "title": site().name,
        "version": version(),
        "source_url": instance.base_url,  # no public repository to name: the server itself, as NodeInfo's homepage
        "description": _description(),
        "usage": {"users": {"active_month": usage.active_month}},
        "thumbnail": {"url": ""},  # no picture of the server yet
        "icon": [],
        "languages": i18n.available_locales(),
        "configuration": {
            "urls": {"streaming": _streaming_url(), "status": None, "about": f"{instance.base_url}/",
                     "privacy_policy": None, "terms_of_service": None},
            "vapid": {"public_key": ""},
            "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
            "statuses": _status_limits(),
            "media_attachments": _media_limits(),
            "polls": _poll_limits(),
            "translation": {"enabled": False},
            "limited_federation": False,
        },
        "registrations": {
            "enabled": enabled, "approval_required": approval, "reason_required": approval,
            "message": None, "min_age": None, "url": None,
        },
        "api_versions": {"mastodon": API_VERSION},
        "contact": {"email": "", "account": contact},
        "rules": [],
    }


@bp.get("/api/v1/instance")
async def instance_v1():
    instance = site().instance
    enabled, approval = _registrations()
    usage = await stats.usage()
    return {
        "uri": instance.domain,
        "title": site().name,
        "short_description": _description(),
        "description": _description(),
        "email": "",
        "version": version(),
        "urls": {"streaming_api": _streaming_url()},
        "stats": {
            "user_count": usage.users, "status_count": usage.local_posts,
            "domain_count": await RemoteHost.filter(blocked_at__isnull=True).count(),
        },
        "thumbnail": "",
        "languages": i18n.available_locales(),
        "registrations": enabled,
        "approval_required": approval,
        "invites_enabled": site().registration is RegistrationMode.INVITE,
        "configuration": {
            "accounts": {"max_featured_tags": 0},
            "statuses": _status_limits(),
            "media_attachments": _media_limits(),
            "polls": _poll_limits(),
        },
        "contact_account": await _contact(),
        "rules": [],
    }


@bp.get("/api/v1/instance/peers")
async def peers():
    """The servers this one knows, not those an admin blocked (Mastodon leaves those out too)."""
    hosts = await RemoteHost.filter(blocked_at__isnull=True).order_by("host").limit(PEERS_MAX).values_list(
        "host", flat=True
    )
    return list(hosts)


@bp.get("/api/v1/instance/rules")
async def rules():
    return []  # an instance has no rules of its own here; each circle has its own (on its Group's page)


@bp.get("/api/v1/custom_emojis")
async def custom_emojis():
    return []
