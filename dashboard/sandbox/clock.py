"""Ids and timestamps: 24-hex ids that grow with time, ISO UTC strings."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

Clock = Callable[[], float]

_COUNTER_LIMIT = 1 << 24


class IdGenerator:
    """Make 24-hex-char ids (timestamp, fixed machine part, counter) that increase."""

    def __init__(self, rng: random.Random, clock: Clock) -> None:
        self._clock = clock
        self._machine = rng.getrandbits(40)
        self._counter = rng.getrandbits(16)
        self._seconds = 0

    def next_id(self) -> str:
        """Return an id greater than every id returned before."""
        self._seconds = max(int(self._clock()), self._seconds)
        self._counter += 1
        if self._counter >= _COUNTER_LIMIT:
            self._counter = 0
            self._seconds += 1

        return f"{self._seconds:08x}{self._machine:010x}{self._counter:06x}"


def iso_utc(timestamp: float) -> str:
    """Format a POSIX timestamp as ISO 8601 UTC with milliseconds and a Z."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_utc(value: str, end_of_day: bool = False) -> datetime:
    """Parse a YYYY-MM-DD date or an ISO timestamp; naive values are UTC.

    A bare date means the start of that day, or its last instant when
    ``end_of_day`` is set (inclusive upper bounds).
    """
    text = value.strip()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and len(text) == 10:
        moment = datetime.combine(moment.date(), time.max, UTC)

    return moment


def add_days(timestamp: float, days: int) -> str:
    """Return the YYYY-MM-DD date ``days`` after a POSIX timestamp, in UTC."""
    moment = datetime.fromtimestamp(timestamp, UTC) + timedelta(days=days)
    return moment.date().isoformat()
