"""Window verdicts at their edges, DST, offsets, holidays, and next_open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netchange.errors import BadRequest
from netchange.policy import evaluate, fits, load_policy, next_open, parse_at, parse_duration
from netchange.vocabulary import Category

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml")
NO_FREEZE = POLICY.model_copy(update={"freezes": ()})
M = dt.timedelta(minutes=1)


def ok(category: str, at: str, duration: str = "30m", site: str = "doif", policy=NO_FREEZE) -> bool:
    return evaluate(policy, Category(category), site, parse_at(at), parse_duration(duration)).allowed


@pytest.mark.parametrize(
    ("category", "at", "duration", "allowed"),
    [
        # minor: Mon–Fri 08:00–20:00, ending by 20:00 (2026-12-01 is a Tuesday)
        ("minor", "2026-12-01T07:59+01:00", "30m", False),
        ("minor", "2026-12-01T08:00+01:00", "30m", True),
        ("minor", "2026-12-01T19:30+01:00", "30m", True),
        ("minor", "2026-12-01T19:31+01:00", "30m", False),  # would overrun 20:00
        ("minor", "2026-12-01T19:59+01:00", "1m", True),
        ("minor", "2026-12-01T20:00+01:00", "1m", False),
        ("minor", "2026-12-05T10:00+01:00", "30m", False),  # Saturday
        ("minor", "2026-12-25T10:00+01:00", "30m", False),  # Christmas (a Friday)
        ("minor", "2026-11-11T10:00+01:00", "30m", False),  # Armistice (a Wednesday)
        # medium: Mon–Fri 19:00–20:00
        ("medium", "2026-12-01T18:59+01:00", "15m", False),
        ("medium", "2026-12-01T19:00+01:00", "60m", True),
        ("medium", "2026-12-01T19:45+01:00", "15m", True),
        ("medium", "2026-12-01T19:46+01:00", "15m", False),
        ("medium", "2026-12-01T19:00+01:00", "61m", False),  # longer than the window / max
        ("medium", "2026-11-11T19:00+01:00", "30m", False),  # holiday
        # major: closed periods, ≤ 4 h, one continuous period
        ("major", "2026-12-01T20:59+01:00", "1h", False),
        ("major", "2026-12-01T21:00+01:00", "4h", True),
        ("major", "2026-12-02T02:00+01:00", "4h", True),  # ends 06:00 exactly
        ("major", "2026-12-02T02:01+01:00", "4h", False),  # ends 06:01
        ("major", "2026-12-04T22:00+01:00", "4h", True),  # Friday night into Saturday
        ("major", "2026-12-06T23:00+01:00", "4h", True),  # Sunday night into Monday
        ("major", "2026-12-07T02:00+01:00", "4h", True),  # Monday 06:00 end
        ("major", "2026-12-07T02:30+01:00", "4h", False),  # Monday 06:30: users are back
        ("major", "2026-12-05T10:00+01:00", "4h", True),  # Saturday daytime
        ("major", "2026-12-01T12:00+01:00", "1h", False),  # weekday daytime
        ("major", "2026-12-25T12:00+01:00", "4h", True),  # holiday daytime
        ("major", "2026-11-11T12:00+01:00", "4h", True),
        ("major", "2026-12-05T10:00+01:00", "4h1m", False),  # over the 4 h maximum
    ],
)
def test_edges(category, at, duration, allowed):
    assert ok(category, at, duration) is allowed


def test_offsets_other_than_paris_are_converted():
    # 18:00Z is 19:00 in Paris in winter; 07:00-05:00 is 13:00 Paris.
    assert ok("medium", "2026-12-01T18:00:00Z")
    assert ok("medium", "2026-12-01T18:00:00+00:00")
    assert not ok("medium", "2026-12-01T19:00:00Z")
    assert ok("minor", "2026-12-01T07:00-05:00")
    assert ok("medium", "2026-12-02T02:30+08:30", "15m")  # 18:00Z = 19:00 Paris, the day before
    v = evaluate(NO_FREEZE, Category.MEDIUM, "doif", parse_at("2026-12-01T18:00Z"), parse_duration("30m"))
    assert v.start.isoformat() == "2026-12-01T19:00:00+01:00"


def test_summer_time_uses_the_summer_offset():
    assert ok("medium", "2026-07-01T17:00Z")  # 19:00 CEST
    assert not ok("medium", "2026-07-01T18:00Z")  # 20:00 CEST


def test_dst_spring_forward_weekend_2026_03_29():
    # The night of Sat 28 → Sun 29 March loses an hour (02:00 → 03:00): 4 h real time from
    # 23:00 CET ends at 04:00 CEST on the wall clock, still inside the closed weekend.
    v = evaluate(NO_FREEZE, Category.MAJOR, "doif", parse_at("2026-03-28T23:00+01:00"), dt.timedelta(hours=4))
    assert v.allowed
    assert v.end.isoformat() == "2026-03-29T04:00:00+02:00"
    # Monday 30 March: the closed period ends 06:00 CEST.
    assert ok("major", "2026-03-30T02:00+02:00", "4h")
    assert not ok("major", "2026-03-30T02:01+02:00", "4h")
    # Monday after the change: 08:00 CEST opens minor work.
    assert ok("minor", "2026-03-30T06:00Z")  # 08:00 CEST
    assert not ok("minor", "2026-03-30T05:59Z")


def test_dst_fall_back_weekend_2026_10_25():
    # 01:00 CEST + 4 h real time = 04:00 CET (the 02:00–03:00 hour happens twice).
    v = evaluate(NO_FREEZE, Category.MAJOR, "doif", parse_at("2026-10-25T01:00+02:00"), dt.timedelta(hours=4))
    assert v.allowed
    assert v.end.isoformat() == "2026-10-25T04:00:00+01:00"
    # The second 02:30 (CET) is a distinct instant, also allowed.
    assert ok("major", "2026-10-25T02:30+01:00", "2h")
    # Monday 26 October: closed period ends 06:00 CET = 05:00Z.
    assert ok("major", "2026-10-26T01:00Z", "4h")
    assert not ok("major", "2026-10-26T01:01Z", "4h")


def test_next_open_examples():
    def nxt(category: str, at: str, duration: str = "30m") -> str | None:
        v = evaluate(NO_FREEZE, Category(category), "doif", parse_at(at), parse_duration(duration))
        return v.next_open.isoformat() if v.next_open else None

    assert nxt("minor", "2026-12-01T07:59+01:00") == "2026-12-01T08:00:00+01:00"
    assert nxt("minor", "2026-12-01T19:45+01:00") == "2026-12-02T08:00:00+01:00"
    assert nxt("minor", "2026-12-24T19:45+01:00") == "2026-12-28T08:00:00+01:00"  # skips Christmas + weekend
    assert nxt("medium", "2026-12-01T19:50+01:00", "15m") == "2026-12-02T19:00:00+01:00"
    assert nxt("medium", "2026-11-10T20:00+01:00", "15m") == "2026-11-12T19:00:00+01:00"  # skips 11 Nov
    assert nxt("major", "2026-12-01T12:00+01:00", "4h") == "2026-12-01T21:00:00+01:00"
    assert nxt("major", "2026-12-02T02:01+01:00", "4h") == "2026-12-02T21:00:00+01:00"
    assert nxt("major", "2026-12-01T12:00+01:00", "5h") is None  # never allowed
    assert nxt("minor", "2026-12-01T10:00+01:00") == "2026-12-01T10:00:00+01:00"  # allowed: itself


def test_freeze_blocks_and_next_open_skips_it():
    v = evaluate(POLICY, Category.MINOR, "doif", parse_at("2026-12-31T10:00+01:00"), parse_duration("30m"))
    assert not v.allowed
    assert "freeze" in v.reason
    assert v.next_open is not None
    assert v.next_open.isoformat() == "2027-01-04T08:00:00+01:00"


def test_site_override_of_closed_hours():
    hours = NO_FREEZE.closed_hours.model_copy(update={"night_start": dt.time(22, 0)})
    sites = dict(NO_FREEZE.sites)
    sites["doso"] = sites["doso"].model_copy(update={"closed_hours": hours})
    policy = NO_FREEZE.model_copy(update={"sites": sites})
    assert ok("major", "2026-12-01T21:00+01:00", "1h", site="doif", policy=policy)
    assert not ok("major", "2026-12-01T21:00+01:00", "1h", site="doso", policy=policy)
    assert ok("major", "2026-12-01T22:00+01:00", "1h", site="doso", policy=policy)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"category": "huge"}, "unknown category"),
        ({"site": "lyon"}, "unknown site"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"category": "minor", "site": "doif"} | kwargs
    with pytest.raises(BadRequest, match=match):
        evaluate(
            NO_FREEZE, args["category"], args["site"], parse_at("2026-12-01T10:00Z"), dt.timedelta(minutes=5)
        )


@pytest.mark.parametrize("text", ["tomorrow", "2026-12-01T10:00", "2026-13-01T10:00Z", ""])
def test_bad_times(text):
    with pytest.raises(BadRequest):
        parse_at(text)


@pytest.mark.parametrize("text", ["abc", "0m", "-5m", "1h30", "m"])
def test_bad_durations(text):
    with pytest.raises(BadRequest):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "minutes"), [("30m", 30), ("2h", 120), ("1h30m", 90), ("PT1H15M", 75), ("45", 45)]
)
def test_durations(text, minutes):
    assert parse_duration(text) == dt.timedelta(minutes=minutes)


@settings(max_examples=60, deadline=None)
@given(
    category=st.sampled_from(list(Category)),
    offset_minutes=st.integers(min_value=0, max_value=14 * 24 * 60),
    duration=st.sampled_from([1, 15, 30, 60, 240]),
)
def test_next_open_is_allowed_and_nothing_earlier_is(category, offset_minutes, duration):
    start = dt.datetime(2026, 10, 20, tzinfo=dt.UTC) + offset_minutes * M
    length = duration * M
    found = next_open(NO_FREEZE, category, "doif", start, length, horizon=dt.timedelta(days=6))
    # Brute force at minute resolution over the same horizon.
    t = start
    first = None
    while t <= start + dt.timedelta(days=6):
        if _fits(category, t, length):
            first = t
            break
        t += M
    if found is None:
        assert first is None
    else:
        assert first is not None
        # Compared as instants: Python calls two aware datetimes unequal when one falls in an
        # ambiguous local hour (PEP 495), e.g. 02:15+02:00 on the night clocks go back.
        assert found.timestamp() == first.timestamp()


def _fits(category, t, length):
    return fits(NO_FREEZE, category, "doif", t, length)


def test_next_open_in_the_repeated_hour_is_the_same_instant():
    # 00:15 UTC on 2026-10-25 is 02:15 CEST, inside the hour that Paris lives twice; a major
    # change may start then (a Sunday). The answer is that instant, whatever its offset says.
    start = dt.datetime(2026, 10, 25, 0, 15, tzinfo=dt.UTC)
    found = next_open(NO_FREEZE, Category.MAJOR, "doif", start, M)
    assert found is not None
    assert found.timestamp() == start.timestamp()
    assert _fits(Category.MAJOR, found, M)
