"""Where this instance lives, and the one place that spells local URIs.

Stored ids of local actors and objects are built here; web and federation
routes serve exactly these paths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instance:
    domain: str  # host[:port], as people type it in handles
    scheme: str = "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def person_uri(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def circle_uri(self, handle: str) -> str:
        return f"{self.base_url}/c/{handle}"

    def post_uri(self, post_id: int) -> str:
        return f"{self.base_url}/posts/{post_id}"

    def media_url(self, file_name: str) -> str:
        return f"{self.base_url}/media/{file_name}"

    def instance_actor_uri(self) -> str:
        return f"{self.base_url}/actor"

    # Secret links sent to people (by email, or by an admin): the web serves these paths.
    def password_reset_url(self, token: str) -> str:
        return f"{self.base_url}/password-reset/{token}"

    def email_link_url(self, token: str) -> str:
        return f"{self.base_url}/email/confirm/{token}"
