"""A Mastodon-compatible client API, so that people use Circles from the apps
they already have (https://docs.joinmastodon.org/client/intro/).

Entities are shaped as Mastodon's documentation and serializers shape them
(`entities.py`); requests carry an OAuth bearer token (`auth.py`); errors are
`{"error": "..."}` (`errors.py`); lists page by id (`pagination.py`).
Each area is one blueprint, listed in `blueprints()`.
"""

from __future__ import annotations

from quart import Quart, request

from web import security
from web.mastodon import auth, cors, oauth, ratelimits


def blueprints() -> tuple:
    """The API's blueprints, one per area. Imported when asked, not with this
    package: web/errors.py imports web.mastodon.errors, and the areas import
    web.html, which imports web/errors.py."""
    from web.mastodon import (
        accounts, instance, notifications, oauth, openapi, polls, search, statuses, streaming, timelines,
    )

    return (
        oauth.bp, instance.bp, accounts.bp, statuses.bp, timelines.bp, notifications.bp, streaming.bp, polls.bp,
        search.bp, openapi.bp,
    )


def register(app: Quart) -> None:
    api = blueprints()
    for blueprint in api:
        app.register_blueprint(blueprint)
    api_blueprints = {blueprint.name for blueprint in api}
    # Rails routes ignore a trailing slash, and apps rely on it (Mastodon.py asks for /api/v1/instance/).
    for rule in app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] in api_blueprints:
            rule.strict_slashes = False

    @app.before_request
    async def before_api_request() -> None:
        if request.blueprint in api_blueprints:
            # PostgreSQL fails on NUL in any query. OAuth's endpoints refuse it themselves, in OAuth's words.
            if request.blueprint != oauth.bp.name:
                await security.refuse_nul_characters()
            await auth.load_token()
            await ratelimits.check_request()

    @app.after_request
    async def after_api_request(response):
        return ratelimits.add_headers(response) if request.blueprint in api_blueprints else response

    cors.register(app)
