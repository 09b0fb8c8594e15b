"""Accounts: the signed-in person, profiles, follows (following a circle is joining it), relationships, blocks and mutes (https://docs.joinmastodon.org/methods/accounts/).

This module has the person's own account (verify and update credentials),
finding accounts (lookup, search) and showing one; the lists (statuses,
followers, following, blocks, mutes, follow requests) are in
account_lists.py, following, blocking and muting in account_relations.py.
All three add their routes to one blueprint (account_support.bp).
"""

from __future__ import annotations

from quart import current_app, request

from models.accounts import Account
from tortoise.expressions import Subquery

from models.actors import Actor, ActorKind, Follow, FollowState
from models.errors import DomainError, InvalidInput
from models.services import media as media_service
from models.services import profiles, ratelimits, validation
from models.services import search as search_service
from web import i18n
from web.mastodon import account_lists, account_relations  # noqa: F401  (their routes join bp)
from web.mastodon import auth, entities
from web.mastodon.account_support import (
    actors_by_ids, boolean, bp, find_account, instance, is_shown, limit, me, not_found, params,
    spend, text, viewer,
)

__all__ = ["bp"]

# The role of a person with none (Mastodon's `everyone` role, UserRole::EVERYONE_ROLE_ID),
# and of an admin (REST::RoleSerializer: permissions as a string of bits; 1 is "administrator").
EVERYONE_ROLE = {"id": "-99", "name": "", "permissions": "65536", "color": "", "highlighted": False}
ADMIN_ROLE = {**entities.ADMIN_ROLE, "permissions": "1", "highlighted": True}


async def credential_account(account: Account) -> dict:
    """The person's own account with its `source` and `role`
    (app/serializers/rest/credential_account_serializer.rb)."""
    [entity] = await entities.accounts([account.actor], instance=instance(), viewer=account)
    entity["source"] = {
        "privacy": "public",  # whoever may read the circle a post is in: there is no per-post choice
        "sensitive": False,
        "language": account.language or None,
        "note": account.bio,
        "fields": [],
        "follow_requests_count": 0,  # people here accept follows at once
        "hide_collections": False,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "attribution_domains": [],
    }
    entity["role"] = ADMIN_ROLE if account.is_admin else EVERYONE_ROLE
    return entity


@bp.get("/api/v1/accounts/verify_credentials")
@auth.scoped("profile")  # :read, :'read:accounts', :profile (app/controllers/api/v1/accounts/credentials_controller.rb)
async def verify_credentials():
    return await credential_account(me())


@bp.patch("/api/v1/accounts/update_credentials")
@auth.scoped("write:accounts")
async def update_credentials():
    """Change only what the request names, through the services the settings
    page uses; every choice is checked before anything is saved."""
    values = await params()
    account = me()
    _refuse_unsupported(values)
    avatar = await _uploaded_avatar()
    privacy = {name: boolean(values, name) for name in ("discoverable", "indexable")}
    profile = {name: text(values, key) for name, key in PROFILE_PARAMS.items()}
    if any(value is not None for value in profile.values()):
        await _update_profile(account, profile)
    if any(value is not None for value in privacy.values()):
        await profiles.update_privacy(
            account, discoverable=_either(privacy["discoverable"], account.discoverable),
            indexable=_either(privacy["indexable"], account.indexable),
            shows_circles=account.profile_shows_circles, shows_posts=account.profile_shows_posts,
        )
    if avatar is not None:
        await profiles.set_avatar(account, instance(), avatar, current_app.extensions["circles.media"])
    return await credential_account(account)


# Mastodon's parameter → the profile service's argument.
PROFILE_PARAMS = {"display_name": "display_name", "bio": "note", "language": "source[language]"}
# The service's field names → Mastodon's, so that a 422 names what the app sent.
FIELD_NAMES = {"bio": "note", "language": "source[language]"}


def _either(value, current):
    return current if value is None else value


def _refuse_unsupported(values: dict) -> None:
    """Choices Mastodon has and Circles does not: asking for them is refused
    (naming the field), asking for what is already so is fine."""
    if boolean(values, "locked"):
        raise InvalidInput("People here accept followers at once: an account cannot be locked.", field="locked")
    if boolean(values, "bot"):
        raise InvalidInput("Accounts here are people: an account cannot be marked as a bot.", field="bot")
    if boolean(values, "hide_collections"):
        raise InvalidInput("Whom you follow and who follows you are shown here; your profile page settings "
                           "choose whether your circles are.", field="hide_collections")
    if boolean(values, "source[sensitive]"):
        raise InvalidInput("Circles has no sensitive-media default.", field="source[sensitive]")
    privacy = text(values, "source[privacy]")
    if privacy not in (None, "", "public"):
        raise InvalidInput("Who reads a post is who may read its circle: the default privacy is always public.",
                           field="source[privacy]")
    if any(key.startswith("fields_attributes") for key in values) and any(values[key] for key in values
                                                                           if key.startswith("fields_attributes")):
        raise InvalidInput("Profiles here have no extra fields.", field="fields_attributes")


async def _uploaded_avatar() -> media_service.CleanImage | None:
    """The `avatar` file, checked and cleaned as the settings page does; None if not sent."""
    if request.mimetype != "multipart/form-data":
        return None
    files = await request.files
    if files.get("header") is not None:
        raise InvalidInput("Circles has no header images.", field="header")
    upload = files.get("avatar")
    if upload is None:
        return None
    await spend(ratelimits.PROFILE_PICTURE)  # as settings.upload_avatar, before the costly cleaning
    return await media_service.prepare_avatar(upload.read(media_service.MAX_UPLOAD_BYTES + 1))


async def _update_profile(account: Account, given: dict[str, str | None]) -> None:
    try:
        await profiles.update_profile(
            account,
            display_name=_either(given["display_name"], account.actor.display_name),
            bio=_either(given["bio"], account.bio),
            language=_either(given["language"], account.language),
            languages=i18n.available_locales(),
        )
    except InvalidInput as error:
        error.field = FIELD_NAMES.get(error.field, error.field)
        raise


# --- finding and showing accounts ---------------------------------------------------------


@bp.get("/api/v1/accounts/lookup")
async def lookup():
    """An account known here by its handle, without asking other servers
    (app/controllers/api/v1/accounts/lookups_controller.rb: skip_webfinger)."""
    auth.require_if_token("read:accounts")
    actor = await by_handle(request.args.get("acct") or "")
    if actor is None:
        raise not_found()
    return await _one(actor)


async def by_handle(handle: str) -> Actor | None:
    """The person or circle known here by `name` or `name@domain` (ours or
    another server's), if it may be shown."""
    name, _, domain = handle.strip().lstrip("@").partition("@")
    if not name or len(name) > 255 or len(domain) > 255:
        return None
    local = not domain or domain.lower() == instance().domain.lower()
    actor = await Actor.get_or_none(
        username=name, deleted_at=None, kind__in=(ActorKind.PERSON, ActorKind.GROUP),
        **({"local": True} if local else {"domain": domain.lower(), "local": False}),
    )
    return actor if actor is not None and await is_shown(actor) else None


@bp.get("/api/v1/accounts/search")
async def search():
    """People and circles by name or handle, as the web search finds them;
    with `resolve=true` and a person's token, a handle from elsewhere is
    looked up on its server (through the federation layer's safe fetch)."""
    auth.require_if_token("read:accounts")
    values = dict(request.args.items())
    query = (text(values, "q") or "").strip()
    count = limit(values, default=40, maximum=80)
    offset = _offset(values)
    found = await _resolved(query) if boolean(values, "resolve") and viewer() is not None else []
    if not found and _is_handle(query):  # a full handle finds its account, as the web's handle lookup does
        found = [actor for actor in [await by_handle(query)] if actor is not None]
    wanted = offset + count
    found += [*await search_service.find_people(query, limit=wanted),
              *[circle.actor for circle in await search_service.find_circles(query, limit=wanted)]]
    found = list({actor.id: actor for actor in found}.values())[offset:offset + count]
    if boolean(values, "following") and viewer() is not None:
        related = await entities.relationships(viewer().actor, found)
        found = [actor for actor, row in zip(found, related, strict=True) if row["following"]]
    return await entities.accounts(found, instance=instance(), viewer=viewer())


def _offset(values: dict) -> int:
    raw = str(values.get("offset") or "").strip()
    number = validation.whole_number(raw)
    if raw and number is None:
        raise InvalidInput("offset must be a number.", field="offset")
    return min(number, MAX_OFFSET) if raw else 0


def _is_handle(query: str) -> bool:
    name, at, domain = query.lstrip("@").partition("@")
    return bool(name and at and domain) and "@" not in domain and " " not in query


async def _resolved(query: str) -> list[Actor]:
    """The account a full handle names, looked up where it lives; nothing
    when the query is no handle or its server does not answer."""
    if not _is_handle(query):
        return []
    await spend(ratelimits.LOOKUP)  # as the search page's lookup (people.search_post)
    # web.html imports web.errors, which imports this package: import it when first needed.
    from web.html.people import find_actor

    try:
        return [await find_actor(query)]
    except DomainError:
        current_app.logger.debug("account search could not resolve %r", query[:300])
        return []


@bp.get("/api/v1/accounts")
async def many():
    """Several accounts by `id[]`, in that order; unknown ones left out (Mastodon 4.3's GET /api/v1/accounts)."""
    auth.require_if_token("read:accounts")
    actors = await actors_by_ids(request.args.getlist("id[]") or request.args.getlist("id"))
    return await entities.accounts(actors, instance=instance(), viewer=viewer())


@bp.get("/api/v1/accounts/familiar_followers")
@auth.scoped("read:follows")
async def familiar_followers():
    """For each account `id[]` names, its followers whom one follows oneself
    (app/controllers/api/v1/accounts/familiar_followers_controller.rb), in three queries and the entities'."""
    targets = await actors_by_ids(request.args.getlist("id[]") or request.args.getlist("id"))
    mine = me().actor_id
    followed = Follow.filter(follower_id=mine, state=FollowState.ACCEPTED).values("target_id")
    rows = await Follow.filter(
        target_id__in=[target.id for target in targets], state=FollowState.ACCEPTED, follower__deleted_at=None,
        follower_id__in=Subquery(followed),
    ).exclude(follower_id=mine).select_related("follower").order_by("-id")
    found = {entity["id"]: entity for entity in await entities.accounts(
        list({row.follower_id: row.follower for row in rows}.values()), instance=instance(), viewer=viewer())}
    return [
        {"id": str(target.id),
         "accounts": [found[str(row.follower_id)] for row in rows if row.target_id == target.id][:FAMILIAR_MAX]}
        for target in targets
    ]


FAMILIAR_MAX = 20
MAX_OFFSET = 10_000  # a search offset beyond this loads too many rows to skip


@bp.get("/api/v1/accounts/<account_id>")
async def show(account_id: str):
    auth.require_if_token("read:accounts")
    return await _one(await find_account(account_id))


@bp.get("/api/v1/accounts/<account_id>/featured_tags")
async def featured_tags(account_id: str):
    """No featured hashtags here; apps ask for them on every profile."""
    auth.require_if_token("read:accounts")
    await find_account(account_id)
    return []


@bp.get("/api/v1/accounts/<account_id>/lists")
@auth.scoped("read:lists")
async def lists(account_id: str):
    """No lists here (the home timeline is the circles and people one follows)."""
    await find_account(account_id)
    return []


async def _one(actor: Actor) -> dict:
    [entity] = await entities.accounts([actor], instance=instance(), viewer=viewer())
    return entity
