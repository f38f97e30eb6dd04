"""How the API writes an instant: the business zone's local time, milliseconds and offset."""

from datetime import UTC, datetime

from app.contract import local_instant_text


def test_an_instant_is_written_in_local_time_with_its_offset():
    instant = datetime(2026, 12, 4, 15, 59, 59, 999000, tzinfo=UTC)

    assert local_instant_text(instant) == "2026-12-04T23:59:59.999+08:00"


def test_an_instant_before_1901_has_an_offset_of_whole_minutes():
    # Shanghai kept local mean time (+08:05:43) until 1901, an offset ISO 8601 cannot write.
    instant = datetime(1900, 12, 22, 20, 9, 20, tzinfo=UTC)

    assert local_instant_text(instant) == "1900-12-23T04:15:20.000+08:06"
