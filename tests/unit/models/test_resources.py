import pytest

from models.circles import Circle
from models.errors import Conflict, InvalidInput, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Like, Post, PostKind
from models.resources import Level, Licence, Resource, ResourceTag
from models.services import likes
from models.services import resources as svc
from tests import factories

LINK = "https://docs.python.org/3/tutorial/"


async def _circle_with_members(instance):
    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    return alice, bob, circle


async def _add(instance, account, circle, **fields):
    fields.setdefault("title", "The Python tutorial")
    fields.setdefault("description", "Start here.")
    fields.setdefault("link", LINK)
    return await svc.add_resource(instance, account.actor, circle, **fields)


async def test_a_member_adds_a_resource_as_a_post_that_federates(database, instance):
    _, bob, circle = await _circle_with_members(instance)
    resource = await _add(
        instance, bob, circle, description="Read *chapter 3* <script>x()</script>",
        licence="cc-by-sa", level="beginner", tags="Python, #web  beginners python",
    )
    post = await Post.get(id=resource.post_id)
    assert (post.kind, post.title, post.circle_id, post.author_id) == (
        PostKind.RESOURCE, "The Python tutorial", circle.id, bob.actor.id
    )
    assert "<em>chapter 3</em>" in post.content and "<script>" not in post.content
    assert (resource.link, resource.licence, resource.level) == (LINK, Licence.CC_BY_SA, Level.BEGINNER)
    assert await svc.tags_of(resource) == ["python", "web", "beginners"]
    assert await OutboxEvent.filter(kind="post.created", subject_id=post.id).count() == 1
    assert (await Circle.get(id=circle.id)).post_count == 1


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "JavaScript://%0aalert(1)",
        "data:text/html,<script>alert(1)</script>", "vbscript:msgbox", "ftp://example.org/file",
        "file:///etc/passwd", "//example.org/x", "example.org", "https://", "http:/example.org",
        "https://exa mple.org/", "https://example.org/" + "a" * svc.LINK_MAX, "",
    ],
)
async def test_only_http_links_are_taken(database, instance, link):
    alice, _, circle = await _circle_with_members(instance)
    with pytest.raises(InvalidInput) as caught:
        await _add(instance, alice, circle, link=link)
    assert caught.value.field == "link"
    assert await Resource.all().count() == 0 and await Post.all().count() == 0
    assert await OutboxEvent.all().count() == 0


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"title": ""}, "title"),
        ({"title": "t" * (svc.TITLE_MAX + 1)}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"description": ""}, "description"),
        ({"description": "d" * (svc.DESCRIPTION_MAX + 1)}, "description"),
        ({"licence": "public-domain-ish"}, "licence"),
        ({"level": "expert"}, "level"),
        ({"tags": "a, b, c, d, e, f, g, h, i, j, k"}, "tags"),
        ({"tags": "x" * (svc.TAG_MAX + 1)}, "tags"),
        ({"tags": "c++"}, "tags"),
        ({"tags": "<script>"}, "tags"),
        ({"tags": "data-science"}, "tags"),  # hashtags have no hyphens on Mastodon or Lemmy
    ],
)
async def test_invalid_resources_write_nothing(database, instance, fields, field):
    alice, _, circle = await _circle_with_members(instance)
    with pytest.raises(InvalidInput) as caught:
        await _add(instance, alice, circle, **fields)
    assert caught.value.field == field
    assert await Resource.all().count() == 0 and await Post.all().count() == 0


def test_tags_are_normalised_and_limited():
    assert svc.parse_tags("Rust  #WEB,rust, data_science") == ["rust", "web", "data_science"]
    assert svc.parse_tags(["Élan", "x" * svc.TAG_MAX]) == ["élan", "x" * svc.TAG_MAX]
    assert svc.parse_tags(",".join(f"t{i}" for i in range(svc.TAGS_MAX))) == [f"t{i}" for i in range(svc.TAGS_MAX)]
    assert svc.tags_from_remote(["#Python", "bad tag!", "#python", "y" * 41] + [f"#t{i}" for i in range(20)]) == [
        "python", *[f"t{i}" for i in range(svc.TAGS_MAX - 1)]
    ]
    with pytest.raises(InvalidInput):
        svc.parse_tags("-leading")


async def test_non_members_cannot_add(database, instance):
    _, _, circle = await _circle_with_members(instance)
    stranger = await factories.account(instance, "stranger")
    with pytest.raises(PermissionDenied):
        await _add(instance, stranger, circle)
    assert await Resource.all().count() == 0


async def test_author_or_steward_edits(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)
    resource = await _add(instance, bob, circle, tags="old")
    with pytest.raises(PermissionDenied):
        await svc.edit_resource(carol.actor, resource, title="Mine now", description="x", link=LINK)
    edited = await svc.edit_resource(
        alice.actor, resource, title="Tutorial (3.13)", description="Updated", link="https://docs.python.org/3.13/",
        level="intermediate", tags="new, python",
    )
    assert (edited.post.title, edited.link, edited.level) == ("Tutorial (3.13)", "https://docs.python.org/3.13/", Level.INTERMEDIATE)
    assert await svc.tags_of(edited) == ["new", "python"]
    assert await OutboxEvent.filter(kind="post.updated", subject_id=resource.post_id).count() == 1
    with pytest.raises(InvalidInput):
        await svc.edit_resource(bob.actor, resource, title="ok", description="ok", link="javascript:alert(1)")
    assert (await Resource.get(id=resource.id)).link == "https://docs.python.org/3.13/"


async def test_search_and_filters_combine(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    other = await factories.circle(instance, alice, "elsewhere")
    first = await _add(instance, alice, circle, title="Python basics", description="Loops", level="beginner", tags="python")
    second = await _add(instance, bob, circle, title="Async deep dive", description="Python event loops",
                        link="https://example.org/async", level="advanced", licence="cc0", tags="python, async")
    third = await _add(instance, bob, circle, title="Rust book", description="Ownership",
                       link="https://doc.rust-lang.org/book/", licence="cc-by", tags="rust")
    await _add(instance, alice, other, title="Python elsewhere", description="Not in this circle")

    async def titles(**filters) -> list[str]:
        page = await svc.search(circle, svc.check_filter(**filters))
        return [e.resource.post.title for e in page.entries]

    assert await titles() == ["Rust book", "Async deep dive", "Python basics"]
    assert await titles(query="python") == ["Async deep dive", "Python basics"]
    assert await titles(query="LOOPS") == ["Async deep dive", "Python basics"]
    assert await titles(tag="Python") == ["Async deep dive", "Python basics"]
    assert await titles(tag="python", level="advanced") == ["Async deep dive"]
    assert await titles(query="python", licence="cc0") == ["Async deep dive"]
    assert await titles(licence="cc-by", tag="python") == []
    assert await titles(query="%") == []  # no wildcard injection

    await likes.like(alice.actor, await Post.get(id=first.post_id))
    await likes.like(bob.actor, await Post.get(id=first.post_id))
    await likes.like(alice.actor, await Post.get(id=third.post_id))
    assert await titles(order="helpful") == ["Python basics", "Rust book", "Async deep dive"]
    assert await titles(order="helpful", tag="python") == ["Python basics", "Async deep dive"]

    page = await svc.search(circle, svc.check_filter(order="helpful"), viewer=bob.actor)
    assert [(e.helpful, e.liked, e.tags) for e in page.entries] == [
        (2, True, ["python"]), (1, False, ["rust"]), (0, False, ["python", "async"])
    ]
    assert second.id == page.entries[2].resource.id

    with pytest.raises(InvalidInput):
        svc.check_filter(level="expert")
    with pytest.raises(InvalidInput):
        svc.check_filter(order="random")


async def test_library_pages(database, instance):
    alice, _, circle = await _circle_with_members(instance)
    for n in range(5):
        await _add(instance, alice, circle, title=f"R{n}", link=f"https://example.org/{n}")
    filters = svc.check_filter()
    first = await svc.search(circle, filters, per_page=2)
    last = await svc.search(circle, filters, page=3, per_page=2)
    assert [e.resource.post.title for e in first.entries] == ["R4", "R3"] and first.has_more
    assert [e.resource.post.title for e in last.entries] == ["R0"] and not last.has_more


async def test_search_reads_a_fixed_number_of_queries(database, instance):
    from tortoise import connections

    alice, _, circle = await _circle_with_members(instance)
    for n in range(6):
        resource = await _add(instance, alice, circle, title=f"R{n}", link=f"https://example.org/{n}", tags="a, b")
        await likes.like(alice.actor, await Post.get(id=resource.post_id))
    connection = connections.get("default")
    original = connection.execute_query
    queries = []

    async def counting(query, values=None):
        queries.append(query)
        return await original(query, values)

    connection.execute_query = counting
    try:
        page = await svc.search(circle, svc.check_filter(order="helpful"), viewer=alice.actor)
    finally:
        connection.execute_query = original
    assert len(page.entries) == 6 and all(e.helpful == 1 and e.tags == ["a", "b"] for e in page.entries)
    assert len(queries) <= 5


async def test_reshare_into_another_circle_keeps_the_original(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    target = await factories.circle(instance, bob, "writers")
    original = await _add(instance, alice, circle, licence="cc-by", level="beginner", tags="python, docs")
    with pytest.raises(PermissionDenied):  # alice is not in "writers"
        await svc.reshare(instance, alice.actor, original, target)
    copy = await svc.reshare(instance, bob.actor, original, target)
    post = await Post.get(id=copy.post_id)
    assert (post.circle_id, post.author_id, post.title, post.kind) == (target.id, bob.actor.id, "The Python tutorial", PostKind.RESOURCE)
    assert (copy.link, copy.licence, copy.level) == (LINK, Licence.CC_BY, Level.BEGINNER)
    assert copy.reshared_from_id == original.id
    assert copy.reshared_from_uri == (await Post.get(id=original.post_id)).uri
    assert await svc.tags_of(copy) == ["python", "docs"]
    with pytest.raises(Conflict):  # already there
        await svc.reshare(instance, bob.actor, original, target)
    with pytest.raises(Conflict):  # into its own circle
        await svc.reshare(instance, bob.actor, original, circle)
    assert [c.id for c in await svc.where_used(LINK)] == [circle.id, target.id]
    assert await svc.reshare_targets(bob.actor, original) == []
    assert await svc.where_used("https://example.org/nowhere") == []


async def test_like_and_unlike_are_idempotent_and_queued(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    stranger = await factories.account(instance, "stranger")
    resource = await _add(instance, alice, circle)
    post = await Post.get(id=resource.post_id)
    first = await likes.like(bob.actor, post)
    again = await likes.like(bob.actor, post)
    assert first.id == again.id and first.uri.startswith(bob.actor.uri)
    assert await Like.filter(post=post).count() == 1
    assert await OutboxEvent.filter(kind="like.created").count() == 1
    with pytest.raises(PermissionDenied):
        await likes.like(stranger.actor, post)
    assert await likes.unlike(bob.actor, post) is True
    assert await likes.unlike(bob.actor, post) is False
    assert await Like.filter(post=post).count() == 0
    undo = await OutboxEvent.get(kind="like.undone")
    assert undo.subject_id == post.id and undo.data == {"actor": bob.actor.uri, "like_uri": first.uri}


async def test_store_remote_keeps_usable_tags_only(database, instance):
    alice, _, circle = await _circle_with_members(instance)
    post = await factories.post(instance, alice, circle, title="A link")
    resource = await svc.store_remote(post, "https://example.org/page", ["#Good", "<bad>", "#good"])
    assert resource is not None and await svc.tags_of(resource) == ["good"]
    assert (await Post.get(id=post.id)).kind is PostKind.RESOURCE
    other = await factories.post(instance, alice, circle, title="Another")
    assert await svc.store_remote(other, "javascript:alert(1)", []) is None
    assert await ResourceTag.all().count() == 1
