"""Injected failures: error answers, stalls, garbage bodies, runtime settings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request

RULE_KINDS = ("fail", "timeout", "malformed")
DEFAULT_TIMEOUT_SECONDS = 5.0


@dataclass
class FaultRule:
    """One injected behaviour for calls matching a method and a path regex."""

    kind: str
    method: str | None
    path: str
    times: int
    status: int = 200
    body: Any = None
    retry_after: str | None = None
    seconds: float = 0.0
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        """Tell whether a call is targeted by this rule."""
        if self.method is not None and self.method != method:
            return False
        return self.pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        """Return the rule as JSON for GET /_sandbox/faults."""
        data: dict[str, Any] = {"method": self.method, "path": self.path}
        data["times"] = self.times
        if self.kind == "fail":
            data.update(
                status=self.status, retry_after=self.retry_after, body=self.body
            )
        if self.kind == "timeout":
            data["seconds"] = self.seconds
        return data


@dataclass
class FaultPlan:
    """A validated POST /_sandbox/faults request, applied all at once."""

    clear: bool = False
    revoke_tokens: bool = False
    latency_ms: float | None = None
    token_ttl: int | None = None
    put_creates: bool | None = None
    rules: list[FaultRule] = field(default_factory=list)


def _number(value: Any, name: str) -> float:
    """Read a finite number >= 0."""
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    if not valid or not math.isfinite(value) or value < 0:
        raise bad_request(f"{name} must be a number >= 0")

    return float(value)


def _times(spec: dict[str, Any]) -> int:
    """Read how many calls a rule affects: a positive count, or -1 for always."""
    times = spec.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int):
        raise bad_request("times must be an integer")
    if times < 1 and times != -1:
        raise bad_request("times must be >= 1, or -1 for until cleared")

    return times


def _status(spec: dict[str, Any], default: int) -> int:
    """Read an HTTP status code."""
    status = spec.get("status", default)
    if isinstance(status, bool) or not isinstance(status, int):
        raise bad_request("status must be an integer")
    if not 100 <= status <= 599:
        raise bad_request("status must be between 100 and 599")

    return status


def _method(spec: dict[str, Any]) -> str | None:
    """Read an optional HTTP method."""
    method = spec.get("method")
    if method is None:
        return None
    if not isinstance(method, str):
        raise bad_request("method must be a string")

    return method.upper()


def parse_rule(kind: str, spec: Any) -> FaultRule:
    """Validate one fail, timeout or malformed rule."""
    if not isinstance(spec, dict):
        raise bad_request(f"{kind} rules must be JSON objects")
    path = spec.get("path", "")
    if not isinstance(path, str):
        raise bad_request("path must be a regular expression string")

    retry_after = spec.get("retry_after")
    try:
        return FaultRule(
            kind=kind,
            method=_method(spec),
            path=path,
            times=_times(spec),
            status=_status(spec, 500) if kind == "fail" else 200,
            body=spec.get("body"),
            retry_after=None if retry_after is None else str(retry_after),
            seconds=_number(spec.get("seconds", DEFAULT_TIMEOUT_SECONDS), "seconds"),
        )
    except re.error as error:
        raise bad_request(f"Invalid path regex {path!r}: {error}") from error


def _rules(payload: dict[str, Any]) -> list[FaultRule]:
    """Validate every rule of a request; a single object counts as a list of one."""
    rules: list[FaultRule] = []
    for kind in RULE_KINDS:
        specs = payload.get(kind, [])
        for spec in specs if isinstance(specs, list) else [specs]:
            rules.append(parse_rule(kind, spec))

    return rules


def _optional_bool(payload: dict[str, Any], name: str) -> bool | None:
    """Read an optional boolean field."""
    value = payload.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false")

    return value


def parse_fault_request(payload: Any) -> FaultPlan:
    """Validate a POST /_sandbox/faults body into a plan."""
    if not isinstance(payload, dict):
        raise bad_request("The faults request must be a JSON object")

    plan = FaultPlan(rules=_rules(payload))
    plan.clear = bool(_optional_bool(payload, "clear"))
    plan.revoke_tokens = bool(_optional_bool(payload, "revoke_tokens"))
    plan.put_creates = _optional_bool(payload, "put_creates")
    if payload.get("latency_ms") is not None:
        plan.latency_ms = _number(payload["latency_ms"], "latency_ms")
    if payload.get("token_ttl") is not None:
        plan.token_ttl = int(_number(payload["token_ttl"], "token_ttl"))

    return plan


class FaultRules:
    """The active rules, consumed as matching calls arrive (not locked)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(self, rules: list[FaultRule]) -> None:
        """Activate more rules, after the existing ones."""
        self._rules.extend(rules)

    def clear(self) -> None:
        """Drop every rule."""
        self._rules.clear()

    def take(self, method: str, path: str) -> tuple[float, FaultRule | None]:
        """Consume the rules a call hits: total stall seconds and the answering rule."""
        if not self._rules:
            return 0.0, None

        stall = 0.0
        responder: FaultRule | None = None
        for rule in list(self._rules):
            if rule.kind != "timeout" and responder is not None:
                continue
            if not rule.matches(method, path):
                continue
            if rule.kind == "timeout":
                stall += rule.seconds
            else:
                responder = rule
            self._consume(rule)

        return stall, responder

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        """Return the active rules grouped by kind."""
        return {
            kind: [rule.describe() for rule in self._rules if rule.kind == kind]
            for kind in RULE_KINDS
        }

    def _consume(self, rule: FaultRule) -> None:
        """Count one use of a rule and drop it when used up."""
        if rule.times == -1:
            return

        rule.times -= 1
        if rule.times == 0:
            self._rules.remove(rule)
