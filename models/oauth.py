"""OAuth 2 for the Mastodon-compatible client API (web/mastodon/): the apps
people sign in with, the short-lived authorization codes, and the access
tokens. Only SHA-256 digests of secrets are stored (clock.token_digest), so a
database leak opens no account."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity, url_field


class OAuthApp(Entity):
    # A client registered with POST /api/v1/apps (Tusky, Elk, Mastodon.py ...).
    name = fields.CharField(max_length=200)
    website = url_field(null=True)
    redirect_uris = fields.TextField()  # one per line, as registered
    scopes = fields.CharField(max_length=1000, default="read")  # space-separated, as registered
    client_id = fields.CharField(max_length=64, unique=True)
    client_secret_digest = fields.CharField(max_length=64)

    class Meta:
        table = "oauth_apps"


class OAuthGrant(Entity):
    # An authorization code: what the consent page hands back to the app, good
    # once and for a few minutes, bound to the redirect URI and the PKCE challenge.
    app = fields.ForeignKeyField("circles.OAuthApp", related_name="grants", on_delete=fields.CASCADE)
    account = fields.ForeignKeyField("circles.Account", related_name="oauth_grants", on_delete=fields.CASCADE)
    code_digest = fields.CharField(max_length=64, unique=True)
    redirect_uri = fields.TextField()
    scopes = fields.CharField(max_length=1000)
    code_challenge = fields.CharField(max_length=128, default="")  # PKCE (RFC 7636); empty without it
    code_challenge_method = fields.CharField(max_length=8, default="")  # "S256" or "plain"
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oauth_grants"


class OAuthToken(Entity):
    # An access token. `account` is null for an app's own token (client_credentials),
    # which may read public things and register nothing on anyone's behalf.
    app = fields.ForeignKeyField("circles.OAuthApp", related_name="tokens", on_delete=fields.CASCADE)
    account = fields.ForeignKeyField(
        "circles.Account", related_name="oauth_tokens", null=True, on_delete=fields.CASCADE
    )
    token_digest = fields.CharField(max_length=64, unique=True)
    scopes = fields.CharField(max_length=1000)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oauth_tokens"
