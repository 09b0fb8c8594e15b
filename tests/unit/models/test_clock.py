import datetime as dt

from models import clock


def test_ids_strictly_increase_even_within_one_millisecond():
    ids = [clock.new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_ids_carry_the_current_millisecond():
    before = int(clock.now().timestamp() * 1000)
    stamp = clock.new_id() >> 16
    assert before <= stamp <= before + 1000


def test_freeze_pins_now_and_ids_stay_increasing():
    # Frozen in the past: ids must still never go backwards.
    at = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    latest = clock.new_id()
    clock.freeze(at)
    try:
        assert clock.now() == at
        assert clock.new_id() > latest
    finally:
        clock.freeze(None)
    assert clock.now() > at


def test_tokens_are_unique_and_url_safe():
    tokens = {clock.token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_unfreezing_forgets_ids_made_in_a_frozen_future():
    clock.freeze(clock.now() + dt.timedelta(hours=2))
    try:
        clock.new_id()
    finally:
        clock.freeze(None)
    before = int(clock.now().timestamp() * 1000)
    assert clock.new_id() >> 16 <= before + 1000
