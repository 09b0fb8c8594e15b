"""toot (https://toot.bezdomni.net/), the command-line Mastodon client, logs
in to a served Circles as `toot login` does: its app registration (JSON
body), the browser login URL (out of band: the code shown on a page), and
its token request."""

from __future__ import annotations


import httpx
import pytest
from toot import api, auth, http
from toot.exceptions import ApiError

from tests.servers import oob_code, press_authorize, sign_up



async def code_from_page(base_url: str, login_url: str, username: str) -> str:
    """A person signs up, opens toot's login URL and presses Authorize; the code they would copy."""
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=10) as browser:
        await sign_up(browser, username)
        shown = await press_authorize(browser, login_url)
    return oob_code(shown)


@pytest.fixture
def toot_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # toot keeps its app and user there


async def test_toot_logs_in_with_a_code_from_the_page(circles, toot_config):
    app = auth.get_or_create_app(circles.base_url)  # reads /api/v1/instance, registers
    assert app.instance == circles.base_url.removeprefix("http://")
    url = api.get_browser_login_url(app)
    assert url.startswith(f"{circles.base_url}/oauth/authorize/?")
    code = await code_from_page(circles.base_url, url, "linus")
    token = api.request_access_token(app, code)
    assert token["token_type"] == "Bearer" and token["scope"] == "read write follow"
    # The same code again: refused as Doorkeeper refuses it, which toot shows as the error_description.
    with pytest.raises(ApiError, match="authorization grant is invalid"):
        http.process_response(http.anon_post(f"{app.base_url}/oauth/token", data={
            "grant_type": "authorization_code", "client_id": app.client_id, "client_secret": app.client_secret,
            "code": code, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
        }))


async def test_toot_login_finishes_with_the_username(circles, toot_config):
    app = auth.get_or_create_app(circles.base_url)
    code = await code_from_page(circles.base_url, api.get_browser_login_url(app), "margaret")
    user = auth.login_auth_code(app, code)
    assert user.username == "margaret"
