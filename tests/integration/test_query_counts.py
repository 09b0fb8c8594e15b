"""No page issues a query per row: every page is rendered with N rows of what
it lists and again with 3N, and must send the same number of SQL statements
(counted by tests/querycount.py) both times."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from models import clock
from models.governance import VoteChoice
from models.notifications import Notification
from models.services import governance
from models.services import likes as like_service
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import reflections as reflection_service
from models.services import resources as resource_service
from models.services import reviews as review_service
from models.services import sisters as sister_service
from models.services import tutoring as tutoring_service
from tests import factories
from tests.integration.webforms import logged_in

N = 2
_serial = itertools.count(1)


class World:
    """A circle `perf` owned by alice (an admin), and people to add rows with."""

    def __init__(self, app, instance, alice, circle, client, count_queries):
        self.app, self.instance, self.alice, self.circle = app, instance, alice, circle
        self.client, self.count_queries = client, count_queries
        self.visitor = app.test_client()

    async def person(self, *, join: bool = True):
        account = await factories.account(self.instance, f"p{next(_serial)}")
        if join:
            await factories.member(self.circle, account)
        return account

    async def queries(self, path: str, client=None, *, status: int = 200, headers=None):
        """The statements one GET of `path` sends, and the size of its body."""
        client = client or self.client
        await client.get(path, headers=headers)  # warm: caches filled on a first visit don't count
        with self.count_queries() as queries:
            response = await client.get(path, headers=headers)
        assert response.status_code == status, (path, response.status_code)
        assert queries, f"{path}: no query counted"  # the counter sees this app's statements
        return queries, len(await response.get_data())

    async def assert_flat(self, path: str, grow, client=None, *, headers=None, grows: bool = True) -> None:
        """Render `path` after `grow(N)` and after `grow(2N)` more: same query
        count. Unless `grows` is False (a page of totals), the second page is
        longer: the rows really are shown."""
        await grow(N)
        few, few_size = await self.queries(path, client, headers=headers)
        await grow(2 * N)
        many, many_size = await self.queries(path, client, headers=headers)
        assert many_size > few_size or not grows, f"{path}: the page did not grow with its rows"
        assert len(many) == len(few), f"{path}: with {N} rows {few.report()}\nwith {3 * N} rows {many.report()}"


@pytest.fixture
async def world(app, instance, count_queries):
    alice = await factories.account(instance, "alice", is_admin=True)
    circle = await factories.circle(instance, alice, "perf", topics="#python #rust")
    return World(app, instance, alice, circle, await logged_in(app, alice), count_queries)


def slot() -> dict:
    """A one-hour meeting in three days (in the circle's zone, UTC)."""
    day = (clock.now() + dt.timedelta(days=3)).date().isoformat()
    return {"starts_local": f"{day}T10:00", "ends_local": f"{day}T11:00"}


async def discussion(world, k: int):
    """k posts by k members, each with a reply by another and a like."""
    for _ in range(k):
        author, other = await world.person(), await world.person()
        post = await factories.post(world.instance, author, world.circle, "A post", title="Hello")
        reply = await post_service.reply(world.instance, other.actor, post, body="A reply")
        await like_service.like(world.alice.actor, post)
        await like_service.like(author.actor, reply)


# --- the home page and the directory ----------------------------------------------


async def test_home_logged_out(world):
    async def grow(k):
        for _ in range(k):
            await factories.circle(world.instance, world.alice, f"c{next(_serial)}", topics="#a #b")

    await world.assert_flat("/", grow, world.visitor)


async def test_home_logged_in(world):
    async def grow(k):
        for _ in range(k):
            other = await factories.circle(world.instance, world.alice, f"c{next(_serial)}", topics="#a")
            person = await world.person()
            await factories.member(other, person)
            await question_service.ask(world.instance, person.actor, other, title="Why?", body="Tell me")
            await factories.post(world.instance, person, world.circle, "Hi")
            await meeting_service.schedule(world.instance, world.alice.actor, other, title="Meet",
                                           agenda="", **slot())

    await world.assert_flat("/", grow)


async def test_directory(world):
    async def grow(k):
        for _ in range(k):
            await factories.circle(world.instance, world.alice, f"c{next(_serial)}", topics="#a #b #c")

    await world.assert_flat("/circles", grow, world.visitor)
    await world.assert_flat("/circles", grow)


# --- the circle and its tabs ------------------------------------------------------------


async def test_circle_page(world):
    await world.assert_flat("/c/perf", lambda k: discussion(world, k))
    await world.assert_flat("/c/perf", lambda k: discussion(world, k), world.visitor)


@pytest.mark.parametrize("path", ["/c/perf", "/"])
async def test_feed_cards_of_every_kind(world, path):
    """The cards' meeting dates, proposal states and resource links come in one query per kind."""
    async def grow(k):
        for _ in range(k):
            person = await world.person()
            await question_service.ask(world.instance, person.actor, world.circle, title="Why?", body="Tell me")
            await meeting_service.schedule(world.instance, person.actor, world.circle, title="Meet", agenda="", **slot())
            await governance.propose(world.instance, person.actor, world.circle, kind="free_text", title="Tuesdays",
                                     body="Why not", closes_at=clock.now() + dt.timedelta(days=2))
            await resource_service.add_resource(world.instance, person.actor, world.circle, title="Docs",
                                                description="Read", link=f"https://example.org/{next(_serial)}")

    await world.assert_flat(path, grow)


async def test_circle_page_with_join_requests(world, instance):
    await world.circle.filter(id=world.circle.id).update(join_mode="approval")
    world.circle.join_mode = "approval"

    async def grow(k):
        for _ in range(k):
            person = await world.person(join=False)
            from models.services import circles as circle_service

            await circle_service.join(world.circle, person.actor, request_text="Please")

    await world.assert_flat("/c/perf", grow)


async def test_questions(world):
    async def grow(k):
        for _ in range(k):
            asker, answerer = await world.person(), await world.person()
            question = await question_service.ask(world.instance, asker.actor, world.circle, title="Why?", body="?")
            answer = await post_service.reply(world.instance, answerer.actor, question, body="Because")
            await question_service.accept_answer(world.instance, asker.actor, question, answer)
            await question_service.ask(world.instance, asker.actor, world.circle, title="Safe?", body="?", safe=True)

    await world.assert_flat("/c/perf/questions", grow)
    await world.assert_flat("/c/perf/questions?show=answered", grow)
    await world.assert_flat("/c/perf/questions?show=all", grow, world.visitor)


async def test_reveal_log(world):
    asker = await world.person()
    question = await question_service.ask(world.instance, asker.actor, world.circle, title="Shy?", body="?", safe=True)

    async def grow(k):
        for _ in range(k):
            await question_service.reveal_asker(world.circle, question, world.alice.actor, reason="A complaint")

    await world.assert_flat("/c/perf/reveals", grow)


async def test_resource_library(world):
    async def grow(k):
        for _ in range(k):
            person = await world.person()
            resource = await resource_service.add_resource(
                world.instance, person.actor, world.circle, title="Docs", description="Read",
                link=f"https://example.org/{next(_serial)}", tags="python, docs, intro")
            post = await resource.post
            await like_service.like(world.alice.actor, post)

    await world.assert_flat("/c/perf/resources", grow)
    await world.assert_flat("/c/perf/resources?tag=python", grow, world.visitor)


async def test_meetings(world):
    async def grow(k):
        for _ in range(k):
            person = await world.person()
            meeting = await meeting_service.schedule(
                world.instance, person.actor, world.circle, title="Meet", agenda="Talk",
                **slot())
            await meeting_service.rsvp(world.alice.actor, meeting, "going")
            await meeting_service.rsvp(person.actor, meeting, "maybe")

    await world.assert_flat("/c/perf/meetings", grow)
    await world.assert_flat("/meetings", grow)
    await world.assert_flat("/c/perf/meetings.ics", grow, world.visitor)


async def test_meeting_page(world):
    meeting = await meeting_service.schedule(world.instance, world.alice.actor, world.circle, title="Meet",
                                             agenda="Talk", **slot())

    async def grow(k):
        for _ in range(k):
            person = await world.person()
            await meeting_service.rsvp(person.actor, meeting, "going")
            await reflection_service.write(world.instance, person.actor, world.circle, body="Good",
                                           meeting_id=meeting.post_id, share=True)

    await world.assert_flat(f"/meetings/{meeting.post_id}", grow)


async def test_reviews(world):
    async def grow(k):
        for _ in range(k):
            author, reviewer = await world.person(), await world.person()
            work = await review_service.request_review(world.instance, author.actor, world.circle, title="Essay",
                                                       body="Comments?", link="https://example.org/essay")
            await review_service.give_feedback(world.instance, reviewer.actor, work, works="All of it")

    await world.assert_flat("/c/perf/reviews", grow)


async def test_review_thread(world):
    work = await review_service.request_review(world.instance, world.alice.actor, world.circle, title="Essay",
                                               body="Comments?")

    async def grow(k):
        for _ in range(k):
            reviewer = await world.person()
            reply = await review_service.give_feedback(world.instance, reviewer.actor, work, works="Good",
                                                       suggestions="More")
            await review_service.mark_helpful(world.alice.actor, reply)

    await world.assert_flat(f"/posts/{work.id}", grow)


async def test_reflections_and_record(world):
    async def grow(k):
        for _ in range(k):
            person = await world.person()
            await reflection_service.write(world.instance, person.actor, world.circle, body="I learnt",
                                           value_cycle="immediate", share=True)
            await reflection_service.write(world.instance, world.alice.actor, world.circle, body="Mine")
            await factories.post(world.instance, person, world.circle, "Hi")

    await world.assert_flat("/c/perf/reflections", grow)
    await world.assert_flat("/c/perf/record", grow)
    await world.assert_flat("/c/perf/record", grow, world.visitor)
    await world.assert_flat("/c/perf/record.json", grow)  # the download: no query per reflection
    await world.assert_flat("/c/perf/record.md", grow, world.visitor)


async def test_tutoring(world):
    await tutoring_service.set_skills(world.circle, world.alice.actor, offers=["python"], wants=["rust"])

    async def grow(k):
        for _ in range(k):
            person = await world.person()
            await tutoring_service.set_skills(world.circle, person.actor, offers=["rust"], wants=["python"])
            pairing = await tutoring_service.open_pairing(world.circle, person.actor, world.alice.actor, "python",
                                                          by_is_helper=False)
            await tutoring_service.send_message(pairing, person.actor, "Help?")
            await question_service.ask(world.instance, person.actor, world.circle, title="Python?", body="#python")

    await world.assert_flat("/c/perf/tutoring", grow)


async def test_tutoring_thread(world):
    person = await world.person()
    await tutoring_service.set_skills(world.circle, world.alice.actor, offers=["python"], wants=[])
    pairing = await tutoring_service.open_pairing(world.circle, person.actor, world.alice.actor, "python",
                                                  by_is_helper=False)

    async def grow(k):
        for _ in range(k):
            await tutoring_service.send_message(pairing, person.actor, "Help?")
            await tutoring_service.send_message(pairing, world.alice.actor, "Sure")

    await world.assert_flat(f"/tutoring/{pairing.id}", grow)


async def test_dashboard(world):
    await world.assert_flat("/c/perf/dashboard", lambda k: discussion(world, k))
    await world.assert_flat("/c/perf/dashboard.json", lambda k: discussion(world, k), grows=False)


async def test_decisions(world):
    async def grow(k):
        for _ in range(k):
            person = await world.person()
            for closes in (dt.timedelta(days=1), dt.timedelta(days=2)):
                proposal = await governance.propose(world.instance, person.actor, world.circle, kind="free_text",
                                                    title="Tuesdays", body="Why not", closes_at=clock.now() + closes)
                await governance.vote(world.instance, proposal, person.actor, VoteChoice.YES.value)
                await governance.vote(world.instance, proposal, world.alice.actor, VoteChoice.NO.value, reason="Busy")
            # the first closes: the decision log grows too
            await governance.close_due(world.instance, clock.now() + dt.timedelta(days=1, hours=1))

    await world.assert_flat("/c/perf/decisions", grow)


async def test_proposal_page(world):
    proposal = await governance.propose(world.instance, world.alice.actor, world.circle, kind="free_text",
                                        title="Tuesdays", body="Why not", closes_at=clock.now() + dt.timedelta(days=2))

    async def grow(k):
        for _ in range(k):
            person = await world.person()
            await governance.vote(world.instance, proposal, person.actor, VoteChoice.YES.value, reason="Yes")

    await world.assert_flat(f"/proposals/{proposal.post_id}", grow, grows=False)  # tallies, not a list of votes


async def test_sisters(world):
    async def grow(k):
        for _ in range(k):
            owner = await world.person(join=False)
            sister = await factories.circle(world.instance, owner, f"s{next(_serial)}")
            await sister_service.link(world.circle, world.alice.actor, sister.actor,
                                      instance_base_url=world.instance.base_url)
            await factories.post(world.instance, owner, sister, "News", kind="question", title="News")

    await world.assert_flat("/c/perf/sisters", grow)


async def test_members(world):
    async def grow(k):
        for _ in range(k):
            asker, answerer = await world.person(), await world.person()
            question = await question_service.ask(world.instance, asker.actor, world.circle, title="Why?", body="?")
            answer = await post_service.reply(world.instance, answerer.actor, question, body="Because")
            await question_service.accept_answer(world.instance, asker.actor, question, answer)

    await world.assert_flat("/c/perf/members", grow)
    await world.assert_flat("/c/perf/members", grow, world.visitor)


async def test_about(world):
    async def grow(k):
        for _ in range(k):
            await world.person()

    await world.assert_flat("/c/perf/about", grow, grows=False)  # the number of members only


# --- threads, people, notifications, admin ---------------------------------------------


async def test_thread(world):
    root = await question_service.ask(world.instance, world.alice.actor, world.circle, title="Why?", body="?")

    async def grow(k):
        for _ in range(k):
            person = await world.person()
            reply = await post_service.reply(world.instance, person.actor, root, body="Because")
            await post_service.reply(world.instance, world.alice.actor, reply, body=f"Thanks {next(_serial)}")
            await like_service.like(world.alice.actor, reply)

    await world.assert_flat(f"/posts/{root.id}", grow)
    await world.assert_flat(f"/posts/{root.id}", grow, world.visitor)


async def test_resource_thread(world):
    resource = await resource_service.add_resource(world.instance, world.alice.actor, world.circle, title="Docs",
                                                   description="Read", link="https://example.org/docs",
                                                   tags="a, b, c")

    async def grow(k):
        for _ in range(k):
            person = await world.person()
            target = await factories.circle(world.instance, person, f"r{next(_serial)}")
            await resource_service.reshare(world.instance, person.actor, resource, target)
            await like_service.like(person.actor, await resource.post)

    await world.assert_flat(f"/posts/{resource.post_id}", grow)
    # The block's helpful count and the viewer's like come from the thread's
    # own look-up (post_actions.action_context): one query of likes, not three.
    queries, _ = await world.queries(f"/posts/{resource.post_id}")
    assert len([q for q in queries if "FROM \"likes\"" in q or "FROM `likes`" in q]) == 1, queries.report()


async def test_user_page(world):
    async def grow(k):
        for _ in range(k):
            other = await factories.circle(world.instance, world.alice, f"c{next(_serial)}")
            asker = await world.person()
            await factories.member(other, asker)
            question = await question_service.ask(world.instance, asker.actor, other, title="Why?", body="?")
            answer = await post_service.reply(world.instance, world.alice.actor, question, body="Because")
            await question_service.accept_answer(world.instance, asker.actor, question, answer)

    await world.assert_flat("/users/alice", grow)


async def test_notifications(world):
    post = await factories.post(world.instance, world.alice, world.circle, "Hi")

    async def grow(k):
        serial = next(_serial)
        await Notification.bulk_create([
            Notification(recipient=world.alice, kind="meeting.reminder", subject_id=post.id, text="Soon",
                         url=f"/posts/{post.id}")
            for _ in range(k)
        ] + [  # replies, unread ones grouped by the post they answer
            Notification(recipient=world.alice, kind="post.reply", subject_id=post.id, text="Re", url="/",
                         params={"name": "bob", "title": "Hi"}, group_key=f"post.reply:{serial}:{n % 2}")
            for n in range(2 * k)
        ])

    await world.assert_flat("/notifications", grow)


async def test_admin(world):
    async def grow(k):
        for _ in range(k):
            await world.person(join=False)

    await world.assert_flat("/admin/", grow)


# --- ActivityPub collections --------------------------------------------------------------

AP = {"Accept": "application/activity+json"}


async def varied_posts(world, k: int, author=None):
    """k of each kind whose document needs more than the post row."""
    author = author or world.alice
    for _ in range(k):
        other = await world.person()
        question = await question_service.ask(world.instance, author.actor, world.circle, title="Why?", body="?")
        answer = await post_service.reply(world.instance, other.actor, question, body="Because")
        await question_service.accept_answer(world.instance, author.actor, question, answer)
        await resource_service.add_resource(world.instance, author.actor, world.circle, title="Docs",
                                            description="Read", link=f"https://example.org/{next(_serial)}",
                                            tags="a, b")
        await reflection_service.write(world.instance, author.actor, world.circle, body="Learnt",
                                       value_cycle="immediate", share=True)
        await governance.propose(world.instance, author.actor, world.circle, kind="free_text", title="Vote",
                                 body="Vote", closes_at=clock.now() + dt.timedelta(days=2))
        await meeting_service.schedule(world.instance, author.actor, world.circle, title="Meet", agenda="",
                                       **slot())
        await factories.post(world.instance, other, world.circle, "Plain")


async def test_group_outbox(world):
    await world.assert_flat("/c/perf/outbox?page=true", lambda k: varied_posts(world, k), world.visitor, headers=AP)
    page = json.loads(await (await world.visitor.get("/c/perf/outbox?page=true", headers=AP)).get_data(as_text=True))
    kinds = {item["object"]["object"]["type"] for item in page["orderedItems"]}
    assert {"Question", "Page", "Event"} <= kinds, kinds  # the rows really were of every kind


async def test_person_outbox(world):
    await world.assert_flat("/users/alice/outbox?page=true", lambda k: varied_posts(world, k), world.visitor,
                            headers=AP)


async def test_featured(world):
    from models.posts import Post

    async def grow(k):
        await varied_posts(world, k)
        await Post.filter(circle=world.circle, root_id=None).update(featured_at=clock.now())

    await world.assert_flat("/c/perf/featured", grow, world.visitor, headers=AP)


async def test_replies_collection(world):
    root = await factories.post(world.instance, world.alice, world.circle, "Hi")

    async def grow(k):
        for _ in range(k):
            await post_service.reply(world.instance, world.alice.actor, root, body=f"Reply {next(_serial)}")

    await world.assert_flat(f"/posts/{root.id}/replies?page=true", grow, world.visitor, headers=AP)


# --- moderation and profiles (pages added on main meanwhile) ------------------------------


async def reported_posts(world, k: int):
    """k posts, each reported by another member, and a post removed by alice."""
    from models.services import moderation

    for _ in range(k):
        author, reporter = await world.person(), await world.person()
        post = await factories.post(world.instance, author, world.circle, "Buy now")
        await moderation.report_post(reporter.actor, post, category="spam", comment="Spam")
        removed = await factories.post(world.instance, author, world.circle, "Off topic")
        await moderation.remove_post(world.circle, world.alice.actor, removed.id, reason="Off topic")


async def test_admin_reports(world):
    await world.assert_flat("/admin/reports", lambda k: reported_posts(world, k))


async def test_circle_moderation_queue_and_log(world):
    await world.assert_flat("/c/perf/moderation", lambda k: reported_posts(world, k))
    await world.assert_flat("/c/perf/moderation/log", lambda k: reported_posts(world, k))


async def test_profile_with_posts(world):
    async def grow(k):
        for _ in range(k):
            other = await factories.circle(world.instance, world.alice, f"c{next(_serial)}")
            await factories.post(world.instance, world.alice, other, "Hello")
            await factories.post(world.instance, world.alice, world.circle, "Hi", title="Hi")

    await world.assert_flat("/users/alice", grow, world.visitor)


# --- people elsewhere, and the admin's domain pages -------------------------------------


async def remote_ana():
    from models.actors import ActorKind
    from models.services import remote

    return await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://elsewhere.example/users/ana", kind=ActorKind.PERSON, username="ana", domain="elsewhere.example",
        inbox_url="https://elsewhere.example/users/ana/inbox", display_name="Ana",
        profile_url="https://elsewhere.example/@ana", followers_url="https://elsewhere.example/users/ana/followers",
    ))


async def test_a_followed_person_on_home_and_their_page(world):
    from models.actors import Follow, FollowState
    from models.services import remote
    from models.services.media import RemoteImageInput

    ana = await remote_ana()
    await Follow.create(follower=world.alice.actor, target=ana, state=FollowState.ACCEPTED)

    async def grow(k):
        for _ in range(k):
            n = next(_serial)
            await remote.store_followed_post(remote.RemotePostInput(
                uri=f"https://elsewhere.example/notes/{n}", author_uri=ana.uri, content_html=f"<p>Note {n}</p>",
                images=(RemoteImageInput(url=f"https://elsewhere.example/{n}.png", media_type="image/png",
                                         alt="A picture"),),
            ), ana)

    await world.assert_flat("/", grow)
    await world.assert_flat("/people/ana@elsewhere.example", grow, world.visitor)


async def test_admin_domains_and_overview(world):
    from models.federation import Delivery, DeliveryState
    from models.services import moderation

    async def block(k):
        for _ in range(k):
            await moderation.block_domain(world.alice, world.instance, f"spam{next(_serial)}.example", reason="Spam")

    async def fail(k):
        for _ in range(k):
            host = f"down{next(_serial)}.example"
            await Delivery.create(activity_id=f"https://x.example/a/{host}", signer=world.alice.actor,
                                  inbox_url=f"https://{host}/inbox", host=host, payload={},
                                  state=DeliveryState.FAILED, next_attempt_at=clock.now())

    await world.assert_flat("/admin/domains", block)
    await world.assert_flat("/admin/overview", fail)


async def test_home_followed_section_cards(world):
    """The people-you-follow section shows each item as a feed card (what it is, its state,
    the circle) from a fixed number of queries, however many items and kinds there are."""
    from models.actors import Follow, FollowState

    bob = await factories.account(world.instance, "bobfollowed")
    elsewhere = await factories.circle(world.instance, bob, "elsewhere")  # a circle alice is not in
    await Follow.create(follower=world.alice.actor, target=bob.actor, state=FollowState.ACCEPTED)

    async def grow(k):
        for _ in range(k):
            n = next(_serial)
            await question_service.ask(world.instance, bob.actor, elsewhere, title=f"Why {n}?", body="Tell me")
            await meeting_service.schedule(world.instance, bob.actor, elsewhere, title=f"Meet {n}", agenda="",
                                           **slot())
            await governance.propose(world.instance, bob.actor, elsewhere, kind="free_text", title=f"Rule {n}",
                                     body="Why not", closes_at=clock.now() + dt.timedelta(days=2))
            await resource_service.add_resource(world.instance, bob.actor, elsewhere, title=f"Docs {n}",
                                                description="Read", link=f"https://docs{n}.example.org/x")

    await world.assert_flat("/", grow)
    page = await (await world.client.get("/")).get_data(as_text=True)
    followed = page[page.index('id="followed"'):]
    assert followed.count('class="post-card') == 10  # a page of them
    for shown in ('kind-question', 'kind-meeting', 'kind-proposal', 'kind-resource', 'class="card-state"',
                  '<time class="card-state"', "docs", 'avatar avatar-small initials', "/c/elsewhere"):
        assert shown in followed, shown
