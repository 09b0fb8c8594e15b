"""`circles worker --concurrency N`: N slots in one worker process, each
claiming its own batch of deliveries and received activities (worker.SLOTTED),
against real HTTP inboxes on loopback. Each row is still handled once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from federation import delivery, inbox, parse, vocab
from models import clock
from models.federation import Delivery, DeliveryState, InboxItem, InboxState
from server import worker
from tests import factories
from tests.unit.server.test_cli import Circles, assert_one_line_error

CLAIM = 50  # delivery.deliver_due's rows a pass


async def queue_apart(signer, stub_inbox, n: int) -> list[str]:
    """n deliveries due now, each to its own inbox on the stub's host (no row waits behind another)."""
    ids = []
    for index in range(n):
        activity_id = f"{signer.uri}/activities/{uuid.uuid4().hex}"
        inbox_url = stub_inbox.url(f"/users/u{index}/inbox")
        await Delivery.create(
            activity_id=activity_id, signer=signer, inbox_url=inbox_url, host=parse.host_of(inbox_url),
            payload=vocab.document({"id": activity_id, "type": "Announce", "actor": signer.uri,
                                    "object": f"{signer.uri}/notes/1"}),
            next_attempt_at=clock.now(),
        )
        ids.append(activity_id)
    return ids


async def slow(request) -> int:
    await asyncio.sleep(0.05)
    return 202


@pytest.mark.parametrize("slots", [1, 3])
async def test_slots_run_delivery_passes_side_by_side_each_row_sent_once(fed, instance, stub, slots):
    signer = (await factories.account(instance, "alice")).actor
    receivers = [await stub(slow) for _ in range(2)]
    queued = []
    for receiver in receivers:
        queued += await queue_apart(signer, receiver, 60)

    handled = await worker.run_once(fed, slots=slots)

    sent = Counter(activity for receiver in receivers for activity in receiver.activity_ids())
    assert handled == min(len(queued), CLAIM * slots)
    assert len(sent) == handled and set(sent.values()) == {1}  # each row once, none twice
    assert await Delivery.filter(state=DeliveryState.DELIVERED).count() == handled
    busiest = max(receiver.max_in_flight for receiver in receivers)
    # One pass sends at most PER_HOST_CONCURRENCY at a time to a host; slots add theirs.
    assert busiest <= delivery.PER_HOST_CONCURRENCY * slots
    if slots > 1:
        assert busiest > delivery.PER_HOST_CONCURRENCY, busiest

    await worker.run_once(fed, slots=slots)
    await worker.run_once(fed, slots=slots)
    sent = Counter(activity for receiver in receivers for activity in receiver.activity_ids())
    assert sorted(sent) == sorted(queued) and set(sent.values()) == {1}


async def test_slots_process_received_activities_each_once(fed, instance):
    for n in range(45):
        await InboxItem.create(activity_id=f"https://remote.test/a/{n}", actor_uri="https://remote.test/u",
                               activity_type="Like", payload={})
    claims = Counter()
    real_claim = inbox._claim

    async def counting_claim(limit, lease):
        items = await real_claim(limit, lease)
        claims.update(item.id for item in items)
        return items

    inbox._claim = counting_claim
    try:
        await worker.run_once(fed, slots=3)  # 3 slots of up to 20: all 45 in one pass
    finally:
        inbox._claim = real_claim
    assert len(claims) == 45 and set(claims.values()) == {1}
    assert await InboxItem.filter(state=InboxState.QUEUED).count() == 0


async def test_run_once_refuses_a_slot_count_out_of_range(fed):
    for slots in (0, -1, worker.MAX_SLOTS + 1):
        with pytest.raises(ValueError, match="slots"):
            await worker.run_once(fed, slots=slots)


@pytest.mark.parametrize("value", ["0", "-3", str(worker.MAX_SLOTS + 1)])
def test_the_worker_command_refuses_a_concurrency_out_of_range(tmp_path, value):
    result = Circles(tmp_path, f"sqlite://{tmp_path / 'none.sqlite3'}")("worker", "--concurrency", value)
    assert_one_line_error(result, 2, f"--concurrency: {value} is out of range", "Use 1 to")
    assert not (tmp_path / "none.sqlite3").exists()


def test_the_worker_command_refuses_a_concurrency_that_is_no_number(tmp_path):
    result = Circles(tmp_path, f"sqlite://{tmp_path / 'none.sqlite3'}")("worker", "--concurrency", "many")
    assert result.code == 2 and "Traceback" not in result.err, str(result)
    assert "'many' is not a valid integer" in result.err
