"""The date shapes of Mastodon's Account entity, and the Relationship's fields."""

from __future__ import annotations

import datetime as dt

from web.mastodon import entities

PARIS = dt.timezone(dt.timedelta(hours=1))


def test_created_at_is_the_day_at_midnight_utc():
    # 00:30 in Paris is still the day before in UTC
    assert entities._midnight(dt.datetime(2026, 3, 2, 0, 30, tzinfo=PARIS)) == "2026-03-01T00:00:00.000Z"
    assert entities._midnight(None) is None


def test_last_status_at_is_a_date_from_a_datetime_or_sqlite_text():
    assert entities._day(dt.datetime(2026, 3, 2, 0, 30, tzinfo=PARIS)) == "2026-03-01"
    assert entities._day("2026-03-02 10:11:12.123456+00:00") == "2026-03-02"
    assert entities._day("2026-03-02T23:59:59Z") == "2026-03-02"
    assert entities._day(None) is None


def test_iso_has_milliseconds_and_z():
    assert entities.iso(dt.datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)) == "2026-03-02T10:00:00.123Z"


def test_relationship_has_mastodons_fields():
    row = entities.relationship(42, following=True, muting=True)
    assert row["id"] == "42" and row["showing_reblogs"] is True and row["muting_notifications"] is True
    assert set(row) == {
        "id", "following", "showing_reblogs", "notifying", "languages", "followed_by", "blocking", "blocked_by",
        "muting", "muting_notifications", "requested", "requested_by", "domain_blocking", "endorsed", "note",
    }
