from tests import factories


async def test_account_circle_post_round_trip(database, instance):
    alice = await factories.account(instance, "alice")
    c = await factories.circle(instance, alice, "readers")
    p = await factories.post(instance, alice, c, "Hi **all**")
    assert p.content == "<p>Hi <strong>all</strong></p>\n"
    assert c.member_count == 1
