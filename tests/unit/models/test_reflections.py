import datetime as dt

import pytest

from models import clock
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Post, PostKind
from models.reflections import Reflection, ValueCycle
from models.services import circles as circle_service
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import reflections as svc
from tests import factories


@pytest.fixture
async def people(instance):
    alice = await factories.account(instance, "alice")  # facilitator (a steward)
    bob = await factories.account(instance, "bob")
    admin = await factories.account(instance, "root_admin", is_admin=True)
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    await factories.member(circle, admin)
    return alice, bob, admin, circle


async def test_a_private_reflection_is_sanitised_and_never_federates(database, instance, people):
    _, bob, _, circle = people
    reflection = await svc.write(
        instance, bob.actor, circle, body="I learned *a lot* <script>x()</script>", value_cycle="potential"
    )
    assert "<em>a lot</em>" in reflection.content and "<script>" not in reflection.content
    assert reflection.value_cycle is ValueCycle.POTENTIAL and reflection.shared_post_id is None
    assert await OutboxEvent.all().count() == 0
    await svc.edit(bob.actor, reflection.id, body="Changed my mind", value_cycle="")
    assert await OutboxEvent.all().count() == 0 and await Post.all().count() == 0
    assert (await Reflection.get(id=reflection.id)).value_cycle is None


async def test_nobody_but_the_author_reads_a_private_reflection(database, instance, people):
    alice, bob, admin, circle = people
    reflection = await svc.write(instance, bob.actor, circle, body="My secret thought")
    for other in (alice, admin):  # a steward of the circle, an admin of the instance
        with pytest.raises(NotFound):
            await svc.get_own(other.actor, reflection.id)
        with pytest.raises(NotFound):
            await svc.edit(other.actor, reflection.id, body="taken over")
        with pytest.raises(NotFound):
            await svc.share(instance, other.actor, reflection.id)
        with pytest.raises(NotFound):
            await svc.delete(other.actor, reflection.id)
        assert await svc.private_of(other.actor, circle) == []
        assert "My secret thought" not in str(await svc.export_contributions(other.actor))
    assert await svc.shared_in(circle) == []
    assert (await svc.learning_record(circle)).reflections == []
    assert [r.id for r in await svc.private_of(bob.actor, circle)] == [reflection.id]
    assert (await Reflection.get(id=reflection.id)).source == "My secret thought"


async def test_share_twice_then_unshare_twice(database, instance, people):
    _, bob, _, circle = people
    reflection = await svc.write(instance, bob.actor, circle, body="Worth sharing", value_cycle="applied")
    assert await svc.share(instance, bob.actor, reflection.id) is True
    assert await svc.share(instance, bob.actor, reflection.id) is False
    post = await Post.get(kind=PostKind.REFLECTION)
    assert (post.source, post.circle_id, post.author_id) == ("Worth sharing", circle.id, bob.actor.id)
    assert await Post.all().count() == 1
    assert await OutboxEvent.filter(kind="post.created", subject_id=post.id).count() == 1
    assert [r.id for r in await svc.shared_in(circle)] == [reflection.id]
    assert await svc.value_cycle_of(post) is ValueCycle.APPLIED

    assert await svc.unshare(bob.actor, reflection.id) is True
    assert await svc.unshare(bob.actor, reflection.id) is False
    assert (await Post.get(id=post.id)).deleted_at is not None
    assert await OutboxEvent.filter(kind="post.deleted", subject_id=post.id).count() == 1
    kept = await Reflection.get(id=reflection.id)
    assert kept.shared_post_id is None and kept.source == "Worth sharing"
    assert await svc.shared_in(circle) == []

    assert await svc.share(instance, bob.actor, reflection.id) is True  # shared again: a new post
    assert await Post.filter(deleted_at=None).count() == 1


async def test_editing_a_shared_reflection_updates_its_post(database, instance, people):
    _, bob, _, circle = people
    reflection = await svc.write(instance, bob.actor, circle, body="First", share=True)
    await svc.edit(bob.actor, reflection.id, body="Second **take**", value_cycle="realised")
    post = await Post.get(id=reflection.shared_post_id)
    assert post.source == "Second **take**" and "<strong>take</strong>" in post.content
    assert await OutboxEvent.filter(kind="post.updated", subject_id=post.id).count() == 1


async def test_deleting_a_shared_reflection_deletes_its_post(database, instance, people):
    _, bob, _, circle = people
    reflection = await svc.write(instance, bob.actor, circle, body="Shared then gone", share=True)
    await svc.delete(bob.actor, reflection.id)
    assert await Reflection.all().count() == 0
    post = await Post.get(id=reflection.shared_post_id)
    assert post.deleted_at is not None
    assert await OutboxEvent.filter(kind="post.deleted", subject_id=post.id).count() == 1


async def test_a_post_deleted_by_a_steward_makes_the_reflection_private(database, instance, people):
    alice, bob, _, circle = people
    reflection = await svc.write(instance, bob.actor, circle, body="Off topic", share=True)
    await post_service.delete_post(alice.actor, await Post.get(id=reflection.shared_post_id))
    assert await svc.shared_in(circle) == []
    assert [r.id for r in await svc.private_of(bob.actor, circle)] == [reflection.id]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"body": ""}, "body"),
        ({"body": "  \n "}, "body"),
        ({"body": "x" * (svc.BODY_MAX + 1)}, "body"),
        ({"body": "ok\x00"}, "body"),
        ({"body": "ok", "value_cycle": "priceless"}, "value_cycle"),
    ],
)
async def test_invalid_reflections_write_nothing(database, instance, people, fields, field):
    _, bob, _, circle = people
    with pytest.raises(InvalidInput) as caught:
        await svc.write(instance, bob.actor, circle, share=True, **fields)
    assert caught.value.field == field
    assert await Reflection.all().count() == 0 and await Post.all().count() == 0


async def test_an_invalid_edit_changes_nothing(database, instance, people):
    _, bob, _, circle = people
    reflection = await svc.write(instance, bob.actor, circle, body="Original", value_cycle="immediate")
    with pytest.raises(InvalidInput):
        await svc.edit(bob.actor, reflection.id, body="x" * (svc.BODY_MAX + 1))
    with pytest.raises(InvalidInput):
        await svc.edit(bob.actor, reflection.id, body="fine", value_cycle="nope")
    kept = await Reflection.get(id=reflection.id)
    assert (kept.source, kept.value_cycle) == ("Original", ValueCycle.IMMEDIATE)


async def test_only_active_members_write(database, instance, people):
    _, _, _, circle = people
    stranger = await factories.account(instance, "stranger")
    with pytest.raises(PermissionDenied):
        await svc.write(instance, stranger.actor, circle, body="Let me in")
    assert await Reflection.all().count() == 0


async def test_a_member_who_left_cannot_share_but_keeps_their_reflection(database, instance, people):
    _, bob, _, circle = people
    reflection = await svc.write(instance, bob.actor, circle, body="Before leaving")
    await circle_service.leave(circle, bob.actor, instance=instance)
    with pytest.raises(PermissionDenied):
        await svc.share(instance, bob.actor, reflection.id)
    assert await Post.all().count() == 0
    assert [r.id for r in await svc.private_of(bob.actor, circle)] == [reflection.id]


async def test_a_reflection_links_only_a_meeting_of_its_circle(database, instance, people):
    alice, bob, _, circle = people
    other = await factories.circle(instance, alice, "elsewhere")
    meeting = await factories.post(instance, alice, circle, "Session 3", kind="meeting")
    foreign_meeting = await factories.post(instance, alice, other, "Elsewhere", kind="meeting")
    discussion = await factories.post(instance, alice, circle, "Not a meeting")
    reflection = await svc.write(instance, bob.actor, circle, body="Good session", meeting_id=meeting.id)
    assert reflection.meeting_id == meeting.id
    for wrong in (foreign_meeting.id, discussion.id, 2**70, 0):
        with pytest.raises(InvalidInput) as caught:
            await svc.write(instance, bob.actor, circle, body="Which?", meeting_id=wrong)
        assert caught.value.field == "meeting"
    assert await Reflection.all().count() == 1


async def _at(moment: dt.datetime, make):
    clock.freeze(moment)
    try:
        return await make()
    finally:
        clock.freeze(None)


async def test_learning_record_counts_by_month(database, instance, people):
    alice, bob, _, circle = people
    sep, oct_, nov = (dt.datetime(2026, m, 10, 12, tzinfo=dt.UTC) for m in (9, 10, 11))
    def meeting(title: str, when: dt.datetime):
        start, end = ((when + dt.timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M") for h in (1, 2))
        return lambda: meeting_service.schedule(instance, alice.actor, circle, title=title, agenda="",
                                                starts_local=start, ends_local=end)

    await _at(sep, meeting("Meeting 1", sep))
    await _at(oct_, meeting("Meeting 2", oct_))
    cancelled = await _at(oct_, meeting("Called off", oct_))
    await _at(oct_, lambda: meeting_service.cancel(alice.actor, cancelled))
    await _at(oct_, lambda: factories.post(instance, alice, circle, "A book", kind="resource"))
    answered = await _at(oct_, lambda: question_service.ask(instance, bob.actor, circle, title="Why?", body="?"))
    await _at(oct_, lambda: question_service.ask(instance, bob.actor, circle, title="Unanswered?", body="?"))
    answer = await _at(oct_, lambda: post_service.reply(instance, alice.actor, answered, body="Because."))
    await _at(oct_, lambda: question_service.accept_answer(instance, bob.actor, answered, answer))
    for cycle in ("applied", "applied", ""):
        await _at(oct_, lambda c=cycle: svc.write(instance, bob.actor, circle, body="Learned", value_cycle=c, share=True))
    await _at(nov, lambda: svc.write(instance, bob.actor, circle, body="Private", value_cycle="immediate"))
    old = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)  # outside the window
    await _at(old, meeting("Old meeting", old))

    record = await _at(nov, lambda: svc.learning_record(circle))
    assert len(record.months) == 12
    assert record.months[0].month == dt.date(2026, 11, 1) and record.months[-1].month == dt.date(2025, 12, 1)
    by_month = {m.month: m for m in record.months}
    october = by_month[dt.date(2026, 10, 1)]
    assert (october.meetings, october.resources, october.answered_questions, october.reflections) == (1, 1, 1, 3)
    assert october.value_cycles == {ValueCycle.APPLIED: 2}
    assert by_month[dt.date(2026, 9, 1)].meetings == 1
    assert by_month[dt.date(2026, 11, 1)].reflections == 0  # the private one does not count
    assert sum(m.meetings for m in record.months) == 2
    assert len(record.reflections) == 3

    assert record.later is None  # these are the latest months
    earlier = await _at(nov, lambda: svc.learning_record(circle, before=record.earlier))
    assert earlier.months[0].month == dt.date(2025, 11, 1)
    assert earlier.later == dt.date(2026, 12, 1)
    assert {m.month: m.meetings for m in earlier.months}[dt.date(2025, 10, 1)] == 1

    page = await svc.learning_record(circle, before=dt.date(2026, 12, 1), limit=2)
    assert len(page.reflections) == 2 and page.next_reflections_before
    rest = await svc.learning_record(circle, reflections_before=page.next_reflections_before, limit=2)
    assert len(rest.reflections) == 1 and rest.next_reflections_before is None


async def test_learning_record_months_follow_the_circles_time_zone(database, instance, people):
    alice, _, _, _ = people
    circle = await factories.circle(instance, alice, "tokyo", timezone="Asia/Tokyo")
    # 20:00 UTC on 31 October is already 1 November in Tokyo.
    await _at(dt.datetime(2026, 10, 31, 20, tzinfo=dt.UTC),
              lambda: factories.post(instance, alice, circle, "Late resource", kind="resource"))
    record = await svc.learning_record(circle, before=dt.date(2026, 12, 1))
    assert {m.month: m.resources for m in record.months}[dt.date(2026, 11, 1)] == 1


@pytest.mark.parametrize(
    "raw, month",
    [("2026-03", dt.date(2026, 3, 1)), ("2026-13", None), ("0001-01", None), ("", None), (None, None), ("x", None)],
)
def test_month_parameter(raw, month):
    assert svc.parse_month(raw) == month


async def test_export_holds_everything_the_person_wrote(database, instance, people):
    alice, bob, _, circle = people
    other = await factories.circle(instance, alice, "writers")
    await factories.member(other, bob)
    await svc.write(instance, bob.actor, circle, body="# Private heading\nSecret", value_cycle="transformative")
    shared = await svc.write(instance, bob.actor, other, body="Shared words", share=True)
    post = await factories.post(instance, bob, circle, "My post body", title="My post", kind="question")
    reply = await post_service.reply(instance, bob.actor, post, body="My reply")
    await factories.post(instance, alice, circle, "Alice's post")
    gone = await factories.post(instance, bob, circle, "Deleted post")
    await post_service.delete_post(bob.actor, gone)

    export = await svc.export_contributions(bob.actor)
    assert export["actor"] == "bob@circles.test"
    reflections = {r["source"]: r for r in export["reflections"]}
    assert reflections["# Private heading\nSecret"] == {
        "circle": "readers", "circle_name": "Readers", "value_cycle": "transformative",
        "source": "# Private heading\nSecret", "created": reflections["# Private heading\nSecret"]["created"],
        "updated": None, "shared": False, "url": None, "meeting": None,
    }
    assert reflections["Shared words"]["shared"] is True
    assert reflections["Shared words"]["url"] == f"http://circles.test/posts/{shared.shared_post_id}"
    posts = {p["source"]: p for p in export["posts"]}
    assert set(posts) == {"My post body", "My reply"}  # not Alice's, not deleted, not the shared reflection
    assert posts["My post body"]["kind"] == "question" and posts["My post body"]["title"] == "My post"
    assert posts["My reply"]["in_reply_to"] == post.uri and posts["My reply"]["url"] == reply.uri
    assert posts["My post body"]["published"].endswith("Z")

    markdown = svc.export_markdown(export)
    assert markdown.startswith("# Contributions of @bob@circles.test\n")
    assert "## Readers (@readers)" in markdown and "## Writers (@writers)" in markdown
    assert "#### Transformative value: it changed how I see myself or my work" in markdown
    assert "> # Private heading\n> Secret" in markdown  # their own headings stay quoted
    assert "#### No kind of value chosen" in markdown
    assert "#### My post" in markdown and "#### Reply" in markdown
    assert markdown.index("## Readers") < markdown.index("Secret") < markdown.index("## Writers")
