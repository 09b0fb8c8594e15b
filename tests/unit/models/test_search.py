"""Search (models/services/search.py) on the real index: SQLite's FTS5 table
or PostgreSQL's GIN index, as migration 0036_search builds them."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from models import clock, db, search_index
from models.actors import Actor, ActorKind
from models.errors import InvalidInput
from models.person_blocks import BlockKind
from models.posts import Post, PostKind
from models.services import meetings as meeting_service
from models.services import moderation, person_blocks
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import resources as resource_service
from models.services import search
from tests import factories
from tests.conftest import POSTGRES_URL

MIGRATION = importlib.import_module("models.migrations.0036_search")


@pytest.fixture
async def world(database, instance):
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    open_circle = await factories.circle(instance, alice, "gardening", name="Gardening")
    await factories.member(open_circle, bob)
    return instance, alice, bob, open_circle


async def ids(query: str, **kwargs) -> list[int]:
    return [hit.post.id for hit in (await search.search_posts(query, **kwargs)).hits]


async def test_words_in_title_or_text_are_found_and_the_title_ranks_first(world):
    instance, alice, bob, circle = world
    in_text = await factories.post(instance, bob, circle, "Compost needs *turning* every week")
    in_title = await factories.post(instance, alice, circle, "How often?", title="Turning compost")
    await factories.post(instance, alice, circle, "Nothing about that here")
    assert await ids("turning", viewer=alice.actor) == [in_title.id, in_text.id]
    assert await ids("TURNING compost", viewer=alice.actor) == [in_title.id, in_text.id]  # any case, every word
    assert await ids("weekly", viewer=alice.actor) == []  # words, not pieces of words


async def test_equal_relevance_lists_the_newest_first(world):
    instance, alice, bob, circle = world
    older = await factories.post(instance, alice, circle, "Seed swap on Saturday")
    newer = await factories.post(instance, bob, circle, "Seed swap on Saturday")
    await Post.filter(id=older.id).update(published_at=newer.published_at - dt.timedelta(minutes=5))
    assert await ids("seed swap", viewer=alice.actor) == [newer.id, older.id]
    await Post.filter(id=older.id).update(published_at=newer.published_at + dt.timedelta(minutes=5))
    assert await ids("seed swap", viewer=alice.actor) == [older.id, newer.id]


async def test_replies_questions_resources_and_meetings_are_found_with_their_kind(world):
    instance, alice, bob, circle = world
    question = await question_service.ask(instance, bob.actor, circle, title="Which mulch?", body="For tomatoes")
    answer = await post_service.reply(instance, alice.actor, question, body="Straw mulch works")
    resource = await resource_service.add_resource(
        instance, alice.actor, circle, title="Mulch guide", description="All about mulch", link="https://example.org/m"
    )
    day = (clock.now() + dt.timedelta(days=3)).date().isoformat()
    meeting = await meeting_service.schedule(instance, alice.actor, circle, title="Mulch day", agenda="Bring straw",
                                             starts_local=f"{day}T10:00", ends_local=f"{day}T11:00")
    found = {hit.post.id: hit.post.kind for hit in (await search.search_posts("mulch", viewer=alice.actor)).hits}
    assert found == {question.id: PostKind.QUESTION, answer.id: PostKind.DISCUSSION,
                     resource.post_id: PostKind.RESOURCE, meeting.post_id: PostKind.MEETING}


async def test_members_only_circles_are_searched_by_their_members_only(world):
    instance, alice, bob, circle = world
    carol = await factories.account(instance, "carol")
    private = await factories.circle(instance, alice, "secret", visibility="members")
    await factories.member(private, bob)
    bob.indexable = True  # he lets search find his posts: still only where the searcher may read
    await bob.save(update_fields=["indexable"])
    hidden = await factories.post(instance, bob, private, "Our hidden orchard plans")
    public = await factories.post(instance, bob, circle, "Public orchard walk")
    assert await ids("orchard", viewer=None) == [public.id]
    assert await ids("orchard", viewer=carol.actor) == [public.id]
    assert set(await ids("orchard", viewer=bob.actor)) == {hidden.id, public.id}
    # within one circle: only that circle's posts
    assert await ids("orchard", viewer=bob.actor, circle=circle) == [public.id]
    assert await ids("orchard", viewer=bob.actor, circle=private) == [hidden.id]
    assert await ids("orchard", viewer=carol.actor, circle=private) == []


async def test_deleted_and_removed_posts_are_not_found(world):
    instance, alice, bob, circle = world
    deleted = await factories.post(instance, bob, circle, "Tulip bulbs to give away")
    removed = await factories.post(instance, bob, circle, "Tulip spam spam spam")
    kept = await factories.post(instance, bob, circle, "Tulip time")
    await post_service.delete_post(bob.actor, deleted)
    await moderation.remove_post(circle, alice.actor, removed.id, reason="Spam")
    assert await ids("tulip", viewer=alice.actor) == [kept.id]


async def test_people_one_muted_or_blocked_are_left_out_for_them_only(world):
    instance, alice, bob, circle = world
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)
    by_bob = await factories.post(instance, bob, circle, "Pumpkin soup recipe")
    by_carol = await factories.post(instance, carol, circle, "Pumpkin carving")
    await person_blocks.set_block(alice.actor, bob.actor, BlockKind.BLOCK)
    await person_blocks.set_block(alice.actor, carol.actor, BlockKind.MUTE)
    assert await ids("pumpkin", viewer=alice.actor) == []
    assert set(await ids("pumpkin", viewer=bob.actor)) == {by_bob.id, by_carol.id}


async def test_a_safe_question_is_the_circles_and_blocking_its_asker_tells_nothing(world):
    instance, alice, bob, circle = world
    question = await question_service.ask(instance, bob.actor, circle, title="Is it normal my beans wilt?",
                                          body="Embarrassed to ask", safe=True)
    await person_blocks.set_block(alice.actor, bob.actor, BlockKind.BLOCK)
    [hit] = (await search.search_posts("beans", viewer=alice.actor)).hits
    assert hit.post.id == question.id
    assert hit.post.author_id == circle.actor_id  # what a page shows: the circle, never the asker


async def test_outside_their_circles_people_find_only_posts_whose_author_let_search_find_them(world):
    instance, alice, bob, circle = world
    carol = await factories.account(instance, "carol")  # not in the circle
    post = await factories.post(instance, bob, circle, "Nettle tea, my recipe")
    assert await ids("nettle", viewer=None) == []
    assert await ids("nettle", viewer=carol.actor) == []
    assert await ids("nettle", viewer=carol.actor, circle=circle) == []
    assert await ids("nettle", viewer=alice.actor) == [post.id]  # a member searches her circle's conversation
    bob.indexable = True
    await bob.save(update_fields=["indexable"])
    assert await ids("nettle", viewer=None) == [post.id]
    assert await ids("nettle", viewer=carol.actor) == [post.id]


async def test_what_the_circle_itself_wrote_is_found_by_anyone_and_names_no_asker(world):
    instance, _alice, bob, circle = world
    question = await question_service.ask(instance, bob.actor, circle, title="Why do my nettles sting?",
                                          body="Asking for a friend", safe=True)
    [hit] = (await search.search_posts("nettles", viewer=None)).hits  # bob did not let search find him
    assert hit.post.id == question.id and hit.post.author_id == circle.actor_id


async def test_an_edit_is_searched_by_its_new_words_and_a_deleted_row_is_forgotten(world):
    instance, alice, _bob, circle = world
    post = await factories.post(instance, alice, circle, "Radish", title="Radishes")
    await Post.filter(id=post.id).update(title="Carrots", source="Carrot", content="<p>Carrot</p>")
    assert await ids("radishes", viewer=alice.actor) == []
    assert await ids("carrots", viewer=alice.actor) == [post.id]
    await Post.filter(id=post.id).delete()
    assert await ids("carrots", viewer=alice.actor) == []
    await factories.post(instance, alice, circle, "Carrots again", title="Carrots")  # the index still works


async def test_pages_of_results(world):
    instance, alice, _bob, circle = world
    posts = [await factories.post(instance, alice, circle, f"Beetroot number {n}") for n in range(5)]
    first = await search.search_posts("beetroot", viewer=alice.actor, per_page=2)
    third = await search.search_posts("beetroot", viewer=alice.actor, page=3, per_page=2)
    assert first.has_next and len(first.hits) == 2
    assert not third.has_next and len(third.hits) == 1
    seen = [h.post.id for h in first.hits] + [h.post.id for h in (await search.search_posts(
        "beetroot", viewer=alice.actor, page=2, per_page=2)).hits] + [h.post.id for h in third.hits]
    assert sorted(seen) == sorted(p.id for p in posts)


HOSTILE = [
    '"', '""', "*", "**", "-", "--", "NEAR", "NEAR(a b)", "a NEAR/2 b", "AND", "OR", "NOT", "a OR", "OR a",
    "-a", "a -", "(", ")", "((a)", "^a", "title:a", "body:a", "{title body}: a", "a*", '"unterminated',
    "'; DROP TABLE posts; --", "%", "_", "\\", "a:b:c", "+a", "!a", "a & b | c", "<->", ":*", "\u202e", "🌱",
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_query_syntax_of_either_database_is_only_words(world, query):
    instance, alice, _bob, circle = world
    await factories.post(instance, alice, circle, "a b c near and or not title body")
    result = await search.search_posts(query, viewer=alice.actor)  # never raises
    assert isinstance(result.hits, list)


async def test_operators_typed_are_searched_as_words(world):
    instance, alice, _bob, circle = world
    near = await factories.post(instance, alice, circle, "Plant them NEAR the fence")
    other = await factories.post(instance, alice, circle, "Plant them by the shed")
    assert await ids("near", viewer=alice.actor) == [near.id]
    assert await ids('"them near"', viewer=alice.actor) == [near.id]  # a phrase
    assert await ids("plant -fence", viewer=alice.actor) == [other.id]  # without a word
    assert set(await ids("fence or shed", viewer=alice.actor)) == {near.id, other.id}
    assert await ids("-fence", viewer=alice.actor) == []  # nothing to look for: nothing found


async def test_empty_and_too_long_queries(world):
    assert (await search.search_posts("   ", viewer=None)).hits == []
    with pytest.raises(InvalidInput):
        await search.search_posts("x" * (search.MAX_QUERY + 1), viewer=None)
    assert (await search.search_posts("x" * search.MAX_QUERY, viewer=None)).hits == []


async def test_terms_without_a_letter_or_digit_are_left_out_on_either_database(world):
    """PostgreSQL skips `___`; FTS5 read it as an empty phrase and found nothing."""
    instance, alice, _bob, circle = world
    post = await factories.post(instance, alice, circle, "Hello garden")
    for query in ("___ hello", "hello ___", "hello -___", '"___" hello', "_ hello or ___"):
        assert await ids(query, viewer=alice.actor) == [post.id], query
    assert search.parse("___ hello -__") == search.Terms((("hello",),))
    assert await ids("___", viewer=alice.actor) == []


async def _remote(name: str, host: str, **fields) -> Actor:
    return await Actor.create(uri=f"https://{host}/users/{name}", kind=ActorKind.PERSON, local=False, username=name,
                              domain=host, inbox_url=f"https://{host}/users/{name}/inbox", **fields)


async def test_an_address_is_an_objects_id_first_and_its_page_only_on_its_own_host(world):
    """Another server can name a victim's page as its object's `url`: that
    page address finds the object only when it is on the object's id's host."""
    instance, alice, _bob, circle = world
    victim_page = "https://victim.example/@ana/1"
    mallory = await _remote("mallory", "evil.example", profile_url="https://victim.example/@ana")
    ana = await _remote("ana", "victim.example", profile_url="https://victim.example/@ana")
    decoy = await Post.create(uri="https://evil.example/notes/1", url=victim_page, circle=circle, author=mallory,
                              content="<p>Decoy</p>", local=False, published_at=clock.now())
    assert await search.known_by_address(victim_page) is None
    assert await search.known_by_address("https://victim.example/@ana") == ana
    real = await Post.create(uri="https://victim.example/users/ana/statuses/1", url=victim_page, circle=circle,
                             author=ana, content="<p>Real</p>", local=False, published_at=clock.now())
    assert await search.known_by_address(victim_page) == real
    assert await search.known_by_address(decoy.uri) == decoy  # its own id still finds it
    assert await search.known_by_address(mallory.uri) == mallory
    assert await search.known_by_address("https://victim.example:99999/x") is None
    assert await search.known_by_address("http://[::1/x") is None  # a broken address


def test_marks_are_whole_words_in_plain_pieces():
    marker = search._marker(["bean", "b<i>"])
    assert search.marked("Beans, bean! <b>bean</b>", marker) == [
        ("Beans, ", False), ("bean", True), ("! <b>", False), ("bean", True), ("</b>", False)]
    long_text = "word " * 100 + "target " + "word " * 100
    cut = search.excerpt_around(long_text, search._marker(["target"]))
    assert "target" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= search.EXCERPT_LENGTH + 2


async def test_people_and_circles_by_a_piece_of_their_name(world):
    instance, alice, bob, circle = world
    await factories.circle(instance, alice, "garden_tools", name="Tools for the GARDEN")
    assert {c.handle for c in await search.find_circles("garden")} == {"gardening", "garden_tools"}
    assert await search.find_circles("%") == []  # LIKE's wildcards are characters
    assert await search.find_people("bo") == []  # nobody let search find them yet
    bob.indexable = True
    await bob.save(update_fields=["indexable"])
    assert [a.username for a in await search.find_people("@BO")] == ["bob"]
    assert [a.username for a in await search.find_people(f"@bob@{instance.domain}")] == ["bob"]  # a whole handle
    assert await search.find_people("bob@elsewhere.example") == []
    assert await search.find_people("") == []


async def test_the_migration_indexes_the_posts_that_were_there_before_it(world, database_url):
    """Write a post, go back to the migration before this one (its reverse
    drops the index; the post stays), migrate forward again: the post is
    found. (The post is written first: the models have columns that later
    migrations add.)"""
    instance, alice, _bob, circle = world
    before = await factories.post(instance, alice, circle, "Written before search existed: hedgehogs")
    previous = MIGRATION.Migration.dependencies[0][1]
    await db.disconnect()
    await tortoise_migrate(config=db.migration_config(database_url), target=f"{db.APP_LABEL}.{previous}")
    await Tortoise.close_connections()
    await db.connect(database_url)
    assert "posts_search" not in await _search_structures()
    await db.disconnect()
    await db.migrate(database_url)
    await db.connect(database_url)
    assert await ids("hedgehogs", viewer=alice.actor) == [before.id]


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the triggers are SQLite's (PostgreSQL keeps an index)")
async def test_the_sqlite_triggers_come_back_on_the_next_migration_run(world, database_url):
    """Tortoise remakes a SQLite table (DROP TABLE posts, then a rename) to
    change a column, which drops its triggers: migrating again restores them
    and indexes what was written meanwhile."""
    instance, alice, _bob, circle = world
    triggers = set(search_index.SQLITE_TRIGGERS)
    assert triggers <= await _search_structures()
    client = connections.get("default")
    for name in triggers:
        await client.execute_script(f"DROP TRIGGER {name}")
    meanwhile = await factories.post(instance, alice, circle, "Written with no triggers: otters")
    assert await ids("otters", viewer=alice.actor) == []
    await db.disconnect()
    await db.migrate(database_url)
    await db.connect(database_url)
    assert triggers <= await _search_structures()
    assert await ids("otters", viewer=alice.actor) == [meanwhile.id]
    await Post.filter(id=meanwhile.id).update(title="Beavers")
    assert await ids("beavers", viewer=alice.actor) == [meanwhile.id]


async def _search_structures() -> set[str]:
    client = connections.get("default")
    if client.capabilities.dialect == "postgres":
        rows = await client.execute_query_dict("SELECT indexname AS name FROM pg_indexes WHERE tablename = 'posts'")
    else:
        rows = await client.execute_query_dict("SELECT name FROM sqlite_master")
    return {row["name"] for row in rows}


@pytest.mark.skipif(not POSTGRES_URL, reason="the GIN index is PostgreSQL's (set CIRCLES_TEST_DATABASE_URL)")
async def test_postgresql_uses_the_index(world):
    """The service's document must be the index's, word for word, or every
    search reads the whole table."""
    client = connections.get("default")
    sql = search._sql("postgres", in_circle=False)
    await client.execute_script("SET enable_seqscan = off")
    rows = await client.execute_query_dict("EXPLAIN " + sql, ["compost", 0, 21, 0])
    plan = "\n".join(row["QUERY PLAN"] for row in rows)
    assert "posts_search" in plan, plan
