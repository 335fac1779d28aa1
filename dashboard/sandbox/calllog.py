"""The record of API calls: light entries for all, JSON bodies for the latest."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One API call as the sandbox saw it."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    at: str
    route: str
    oauth: bool = False


class CallLog:
    """Count every call; keep light entries and the most recent JSON bodies."""

    def __init__(self, max_entries: int, max_bodies: int) -> None:
        self._entries: deque[tuple[int, Call]] = deque(maxlen=max_entries)
        self._bodies: deque[tuple[int, Any]] = deque(maxlen=max_bodies)
        self._routes: Counter[str] = Counter()
        self._count = 0

    def record(self, call: Call, body: Any) -> None:
        """Append one call; its body is kept only among the most recent ones."""
        index = self._count
        self._count += 1
        self._entries.append((index, call))
        self._routes[f"{call.method} {call.route}"] += 1
        if body is not None:
            self._bodies.append((index, body))

    def clear(self) -> None:
        """Forget every call and reset the counts."""
        self._entries.clear()
        self._bodies.clear()
        self._routes.clear()
        self._count = 0

    def since(self, start: int) -> dict[str, Any]:
        """Return the total count, counts per route and the calls from ``start`` on."""
        bodies = {index: body for index, body in self._bodies if index >= start}
        calls = [
            self._describe(index, call, bodies.get(index))
            for index, call in self._entries
            if index >= start
        ]
        return {"count": self._count, "routes": dict(self._routes), "calls": calls}

    @staticmethod
    def _describe(index: int, call: Call, body: Any) -> dict[str, Any]:
        """Return one call as JSON."""
        return {
            "index": index,
            "method": call.method,
            "path": call.path,
            "query": call.query,
            "status": call.status,
            "json": body,
            "at": call.at,
            "oauth": call.oauth,
        }
