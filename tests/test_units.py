import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timebank.errors import InputError
from timebank.units import (
    format_hours,
    format_minutes,
    parse_day,
    parse_duration,
    parse_minutes,
    split_evenly,
)


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("1.5", 90),
        ("1h30", 90),
        ("1h 30m", 90),
        ("90m", 90),
        ("1:30", 90),
        ("0.25", 15),
        ("2h", 120),
        ("45 min", 45),
        (" 3 ", 180),
        ("1H30M", 90),
        ("24h", 1440),
        (".5", 30),
        ("24h01", 1441),  # how much one exchange may be is classic's max_per_day, not a spelling
        ("25", 1500),
    ],
)
def test_durations_people_type(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("0", "more than zero"),
        ("-1h", "more than zero"),
        ("abc", "not a duration"),
        ("", "not a duration"),
        ("1e308", "not a duration"),
        ("nan", "not a duration"),
        ("inf", "not a duration"),
        ("1.333", "whole number of minutes"),
        ("1:75", "not a duration"),
    ],
)
def test_bad_durations_quote_what_was_typed(text, fragment):
    with pytest.raises(InputError) as caught:
        parse_duration(text)
    assert fragment in str(caught.value)
    assert repr(text) in str(caught.value)


def test_signed_minutes_for_settings():
    assert parse_minutes("-10h") == -600
    assert parse_minutes("+1h30") == 90


@pytest.mark.parametrize(
    "minutes, text",
    [(90, "1h30"), (120, "2h"), (45, "45m"), (-570, "-9h30"), (0, "0m"), (61, "1h01")],
)
def test_format_minutes(minutes, text):
    assert format_minutes(minutes) == text


def test_format_hours():
    assert format_hours(90) == "1.50 h"
    assert format_hours(-45) == "-0.75 h"


def test_days():
    today = dt.date(2026, 3, 10)
    assert parse_day("", today=today) == today
    assert parse_day("yesterday", today=today) == dt.date(2026, 3, 9)
    assert parse_day("-2", today=today) == dt.date(2026, 3, 8)
    assert parse_day("2025-12-31", today=today) == dt.date(2025, 12, 31)
    with pytest.raises(InputError, match="'12/31/2025' is not a day of the calendar"):
        parse_day("12/31/2025", today=today)  # day first, as in the UK
    with pytest.raises(InputError, match="'someday' is not a date; try today"):
        parse_day("someday", today=today)
    with pytest.raises(InputError, match="out of range"):
        parse_day("0001-01-01", today=today)


def test_days_as_people_say_them():
    """One reader for the CLI and the TUI: weekdays, and the UK's day first."""
    friday = dt.date(2026, 11, 27)
    assert parse_day("saturday", today=friday) == dt.date(2026, 11, 21)  # never in the future
    assert parse_day("last sat", today=friday) == dt.date(2026, 11, 21)
    assert parse_day("Fri", today=friday) == friday
    assert parse_day("mon", today=friday) == dt.date(2026, 11, 23)
    assert parse_day("21/11", today=friday) == dt.date(2026, 11, 21)
    assert parse_day("21 Nov", today=friday) == dt.date(2026, 11, 21)
    assert parse_day("21 november 2025", today=friday) == dt.date(2025, 11, 21)
    assert parse_day("28/11", today=friday) == dt.date(2025, 11, 28)  # the latest 28 Nov not ahead
    assert parse_day("31/12/2025", today=friday) == dt.date(2025, 12, 31)
    assert parse_day("1/1/26", today=friday) == dt.date(2026, 1, 1)
    with pytest.raises(InputError, match="'31/11' is not a day of the calendar"):
        parse_day("31/11", today=friday)


def test_split_evenly_never_loses_a_minute():
    assert split_evenly(61, 2) == [31, 30]
    assert split_evenly(100, 3) == [34, 33, 33]
    assert sum(split_evenly(1441, 7)) == 1441


@given(
    st.lists(
        st.one_of(st.none(), st.integers(), st.text(), st.lists(st.tuples(st.text(), st.integers()))),
        max_size=16,
    )
)
def test_chain_encoding_is_plain_compact_json(payload):
    """The hash chain's encoder (the C encoder built once) writes exactly what json.dumps does,
    so ledgers hashed before and after it verify alike."""
    from timebank.chain import _encode

    assert _encode(payload) == json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def test_format_hours_rounds_half_up_to_two_places():
    # 1h01 is 1.01666... hours: shown 1.02 h, not cut to 1.01 h
    assert format_hours(61) == "1.02 h"
    assert format_hours(1) == "0.02 h"  # 0.01666...
    assert format_hours(-61) == "-1.02 h"
    assert format_hours(59 * 60 + 59) == "59.98 h"  # 59.98333...
    assert format_hours(3) == "0.05 h"  # exactly 0.05


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("1h99", "99 minutes after the hours"),
        ("0h60", "60 minutes after the hours"),
        ("1h 75m", "75 minutes after the hours"),
        ("1.5h30", "decimal hours followed by minutes"),
        ("0.5h 10m", "decimal hours followed by minutes"),
    ],
)
def test_minutes_after_hours_are_a_clock_not_a_sum(text, fragment):
    """``1h99`` was read as 2h39 and ``1.5h30`` as 2h: a typo became a different amount."""
    with pytest.raises(InputError) as caught:
        parse_duration(text)
    assert fragment in str(caught.value) and repr(text) in str(caught.value)
    with pytest.raises(InputError):
        parse_minutes("-" + text, field="floor")


@given(st.integers(min_value=1, max_value=24 * 60))
def test_every_shown_duration_reads_back_as_itself(minutes):
    """What the ledger shows (``format_minutes``) is what it reads, in every accepted spelling."""
    hours, rest = divmod(minutes, 60)
    assert parse_duration(format_minutes(minutes)) == minutes
    assert parse_duration(f"{hours}:{rest:02d}") == minutes
    assert parse_duration(f"{minutes}m") == minutes
    if hours:
        assert parse_duration(f"{hours}h {rest}m") == minutes


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=60, max_value=999))
def test_no_hour_and_minutes_spelling_overflows_its_minutes(hours, minutes):
    for text in (f"{hours}h{minutes}", f"{hours}h {minutes}m", f"{hours}.5h{minutes % 60}"):
        with pytest.raises(InputError):
            parse_duration(text)
