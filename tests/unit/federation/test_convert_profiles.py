"""A remote actor's picture: only a URL a browser may safely load is kept."""

import pytest

from federation import parse

ACTOR = {"id": "https://remote.example/users/ana", "type": "Person", "preferredUsername": "ana",
         "inbox": "https://remote.example/users/ana/inbox"}


@pytest.mark.parametrize(
    ("icon", "expected"),
    [
        ({"type": "Image", "url": "https://cdn.example/ana.png"}, "https://cdn.example/ana.png"),
        ("http://cdn.example/ana.png", "http://cdn.example/ana.png"),
        ([{"type": "Image", "url": "https://cdn.example/1.png"}, {"url": "https://cdn.example/2.png"}], "https://cdn.example/1.png"),
        ({"type": "Image", "url": {"type": "Link", "href": "https://cdn.example/l.png"}}, "https://cdn.example/l.png"),
        ({"url": "javascript:alert(1)"}, None),
        ({"url": "data:image/png;base64,AAAA"}, None),
        ({"url": "//cdn.example/ana.png"}, None),
        ({"url": "https://127.0.0.1/ana.png"}, None),
        ({"url": "http://10.1.2.3/ana.png"}, None),
        ({"url": "http://[::1]/ana.png"}, None),
        ({"url": "http://169.254.169.254/latest"}, None),
        ({"url": "https://localhost/ana.png"}, None),
        ({"url": "https://printer.local/ana.png"}, None),
        ({"url": "https://user:pw@cdn.example/ana.png"}, None),
        ({"url": "https://cdn.example/a\nb.png"}, None),
        ({"url": "https://cdn.example/" + "a" * 3000}, None),
        ({"url": 42}, None),
        (None, None),
    ],
)
def test_avatar_urls(icon, expected):
    assert parse.avatar_url(icon) == expected
    doc = {**ACTOR, "icon": icon} if icon is not None else ACTOR
    assert parse.as_to_actor_input(doc, fetched_from=ACTOR["id"]).avatar_url == expected
