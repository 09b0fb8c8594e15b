import httpx
import pytest

from tests.interop.receivers.harness import Side, Stage, start_peer
from tests.interop.test_fedify import fedify_node  # noqa: F401  (the session fixture: npm ci, Node >= 22)


@pytest.fixture
async def stage(fedify_node, circles, tmp_path):  # noqa: F811  (fedify_node first: skip before starting anything)
    """Circles with Ada's open circle, a Mastodon peer and a Lemmy peer."""
    mastodon = await start_peer(fedify_node, circles, tmp_path / "peers", "mastodon")
    try:
        lemmy = await start_peer(fedify_node, circles, tmp_path / "peers", "lemmy")
    except BaseException:
        mastodon.stop()
        raise
    try:
        async with (
            httpx.AsyncClient(base_url=circles.base_url, timeout=10.0) as ada,
            httpx.AsyncClient(base_url=mastodon.base_url, timeout=30.0) as to_mastodon,
            httpx.AsyncClient(base_url=lemmy.base_url, timeout=30.0) as to_lemmy,
        ):
            stage = Stage(circles, ada, Side("mastodon", mastodon, to_mastodon), Side("lemmy", lemmy, to_lemmy))
            await stage.open_circle()
            yield stage
    finally:
        mastodon.stop()
        lemmy.stop()
