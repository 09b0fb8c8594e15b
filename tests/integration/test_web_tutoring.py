"""Peer tutoring through the web UI: skills, suggestions, pairings and the private thread."""

from __future__ import annotations

import pytest

from models.actors import Actor, ActorKind
from models.circles import Membership, MembershipState, Role
from models.services import questions as question_service
from models.services import tutoring as tutoring_service
from models.tutoring import Pairing, Skill, TutoringMessage
from tests import factories
from tests.integration.test_web_posts import XSS_BODY, assert_no_live_markup
from tests.integration.webforms import logged_in, submit, text

SECRET = "Meet me Tuesday about decorators"


@pytest.fixture
async def circle(instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    return circle


@pytest.fixture
async def pairing(circle, alice, bob):
    await tutoring_service.set_skills(circle, alice.actor, offers=["python"], wants=[])
    await tutoring_service.set_skills(circle, bob.actor, offers=[], wants=["python"])
    pairing = await tutoring_service.open_pairing(circle, bob.actor, alice.actor, "python", by_is_helper=False)
    await tutoring_service.send_message(pairing, bob.actor, SECRET)
    return pairing


async def test_the_tab_and_page_for_visitors(app, circle):
    html = await text(await app.test_client().get("/c/readers/tutoring"))
    assert 'href="/c/readers/tutoring" aria-current="page">Tutoring</a>' in html
    assert "Log in</a> and join this circle" in html
    assert 'href="/c/readers/tutoring"' in await text(await app.test_client().get("/c/readers"))


async def test_member_sets_skills_and_asks_a_suggested_helper(app, alice, bob, circle, instance):
    alice_client, bob_client = await logged_in(app, alice), await logged_in(app, bob)
    response = await submit(alice_client, "/c/readers/tutoring/skills", offers="Python, data science", wants="")
    assert response.status_code == 302 and response.location == "/c/readers/tutoring"
    response = await submit(bob_client, "/c/readers/tutoring/skills", offers="", wants="python")
    assert response.status_code == 302
    await question_service.ask(instance, bob.actor, circle, title="What is a Python decorator?", body="Help")

    page = await text(await alice_client.get("/c/readers/tutoring"))
    assert 'value="python, data science"' in page
    assert "What is a Python decorator?" in page  # questions she could answer
    assert "would like help with <strong>python</strong>" in page and "Offer help" in page
    page = await text(await bob_client.get("/c/readers/tutoring"))
    assert "can help you with <strong>python</strong>" in page and "a new partner for you" in page

    response = await submit(
        bob_client, "/c/readers/tutoring/open", other=str(alice.actor.id), skill="python", role="ask"
    )
    assert response.status_code == 302
    pairing = await Pairing.get()
    assert response.location == f"/tutoring/{pairing.id}"
    assert (pairing.helper_id, pairing.learner_id) == (alice.actor.id, bob.actor.id)
    assert "alice helps you with python" in await text(await bob_client.get("/c/readers/tutoring"))

    response = await submit(bob_client, f"/tutoring/{pairing.id}/messages", body="Hello **alice**")
    assert response.status_code == 302
    thread = await text(await alice_client.get(f"/tutoring/{pairing.id}"))
    assert "Hello <strong>alice</strong>" in thread and "Only you and bob can read" in thread

    response = await submit(alice_client, f"/tutoring/{pairing.id}/close")
    assert response.status_code == 302
    assert (await Pairing.get(id=pairing.id)).closed_at is not None
    page = await text(await bob_client.get("/c/readers/tutoring"))
    assert f'href="/tutoring/{pairing.id}">' in page and "alice helped you with python" in page
    assert "You have no open pairings in this circle." in page
    response = await submit(bob_client, f"/tutoring/{pairing.id}/messages", body="Too late")
    assert response.status_code == 409 and "This pairing is closed" in await text(response)
    assert await TutoringMessage.all().count() == 1


async def test_bad_skills_are_refused_and_kept_in_the_form(app, bob, circle):
    client = await logged_in(app, bob)
    await submit(client, "/c/readers/tutoring/skills", offers="drawing", wants="")
    response = await submit(client, "/c/readers/tutoring/skills", offers="drawing, <script>x</script>", wants="go")
    html = await text(response)
    assert response.status_code == 400
    assert "is not a skill name" in html and 'id="f-offers-error"' in html
    assert 'value="drawing, &lt;script&gt;x&lt;/script&gt;"' in html and 'value="go"' in html
    assert_no_live_markup(html)
    response = await submit(client, "/c/readers/tutoring/skills", offers=", ".join(f"s{n}" for n in range(21)))
    assert response.status_code == 400 and "at most 20" in await text(response)
    assert [s.name for s in await Skill.all()] == ["drawing"]


async def test_opening_refusals_are_shown_on_the_page(app, alice, bob, circle):
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/tutoring/open", other=str(alice.actor.id), skill="python", role="ask")
    assert response.status_code == 409 and "alice does not list “python”" in await text(response)
    remote = await Actor.create(
        uri="https://elsewhere.example/users/rita", kind=ActorKind.PERSON, local=False,
        username="rita", domain="elsewhere.example",
    )
    await Membership.create(circle=circle, actor=remote, state=MembershipState.ACTIVE)
    response = await submit(client, "/c/readers/tutoring/open", other=str(remote.id), skill="python", role="ask")
    assert response.status_code == 403 and "account on elsewhere.example is gone" in await text(response)
    response = await submit(client, "/c/readers/tutoring/open", other=str(alice.actor.id), skill="python", role="x")
    assert response.status_code == 400 and "ask for help or offer it" in await text(response)
    for other in ("nope", "99999999999999999999999", "123"):
        response = await submit(client, "/c/readers/tutoring/open", other=other, skill="python", role="ask")
        assert response.status_code == 404
    assert not await Pairing.exists()


async def test_non_member_cannot_set_skills(app, instance, circle):
    carol = await factories.account(instance, "carol")
    client = await logged_in(app, carol)
    assert "Join this circle to find tutoring partners" in await text(await client.get("/c/readers/tutoring"))
    response = await submit(client, "/c/readers/tutoring/skills", offers="python")
    assert response.status_code == 403 and not await Skill.exists()


async def test_the_thread_is_404_for_everyone_but_the_two(app, instance, alice, bob, circle, pairing):
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)
    steward = await factories.account(instance, "sam")
    await factories.member(circle, steward)
    await Membership.filter(circle=circle, actor=steward.actor).update(role=Role.MODERATOR)
    admin = await factories.account(instance, "boss", is_admin=True)
    for account in (carol, steward, admin):
        client = await logged_in(app, account)
        for response in (
            await client.get(f"/tutoring/{pairing.id}"),
            await submit(client, f"/tutoring/{pairing.id}/messages", body="Let me in"),
            await submit(client, f"/tutoring/{pairing.id}/close"),
        ):
            html = await text(response)
            assert response.status_code == 404 and SECRET not in html and "python" not in html
        missing = await client.get("/tutoring/12345")
        assert missing.status_code == 404
        forbidden = await text(await client.get(f"/tutoring/{pairing.id}"))
        # The same page but for its own address (the footer's language links lead back to it).
        assert (await text(missing)).replace("/tutoring/12345", "/tutoring/ID") == forbidden.replace(
            f"/tutoring/{pairing.id}", "/tutoring/ID"
        )
    for path in (f"/tutoring/{pairing.id}", "/tutoring/12345"):
        response = await app.test_client().get(path)
        assert response.status_code == 302 and response.location.startswith("/login")
    assert SECRET in await text(await (await logged_in(app, alice)).get(f"/tutoring/{pairing.id}"))
    assert await TutoringMessage.all().count() == 1
    assert (await Pairing.get(id=pairing.id)).closed_at is None


async def test_bad_messages_are_refused_and_kept(app, bob, pairing):
    client = await logged_in(app, bob)
    response = await submit(client, f"/tutoring/{pairing.id}/messages", body="x" * 5001)
    html = await text(response)
    assert response.status_code == 400 and "at most 5000" in html and 'id="f-body-error"' in html
    assert "x" * 5001 in html  # what was typed is kept
    response = await submit(client, f"/tutoring/{pairing.id}/messages", body="  ")
    assert response.status_code == 400
    assert await TutoringMessage.all().count() == 1


async def test_html_and_script_in_messages_are_sanitised(app, alice, bob, pairing):
    response = await submit(await logged_in(app, bob), f"/tutoring/{pairing.id}/messages", body=XSS_BODY)
    assert response.status_code == 302
    html = await text(await (await logged_in(app, alice)).get(f"/tutoring/{pairing.id}"))
    assert "Look:" in html
    assert_no_live_markup(html)


async def test_missing_csrf_token_changes_nothing(app, alice, bob, pairing):
    client = await logged_in(app, bob)
    for path, form in [
        ("/c/readers/tutoring/skills", {"offers": "forged"}),
        ("/c/readers/tutoring/open", {"other": str(alice.actor.id), "skill": "python", "role": "ask"}),
        (f"/tutoring/{pairing.id}/messages", {"body": "Forged"}),
        (f"/tutoring/{pairing.id}/close", {}),
    ]:
        assert (await client.post(path, form=form)).status_code == 403
    assert await TutoringMessage.all().count() == 1
    assert (await Pairing.get(id=pairing.id)).closed_at is None
    assert not await Skill.filter(name="forged").exists()
