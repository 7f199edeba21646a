"""Throttling, call counters and injected faults: the ways the simulator can misbehave on purpose."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ApiError, UpstreamFault, V1Error
from .routing import qps_error

HTTP_FAULTS = (500, 502, 503, 504)


def api_matches(patterns: list[str], api: str) -> bool:
    """An empty list matches every API; ``/topapi/*`` style patterns match by prefix."""
    if not patterns:
        return True
    for pattern in patterns:
        if pattern.endswith("*") and api.startswith(pattern[:-1]):
            return True
        if pattern == api:
            return True
    return False


class QpsLimiter:
    """Sliding one-second window per (appkey, api) key; real seconds, not scaled, since QPS is about wall time."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def allow(self, key: tuple[str, str], limit: int, now: float) -> bool:
        if limit <= 0:
            return True
        window = self._windows.setdefault(key, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True

    def reset(self) -> None:
        self._windows.clear()


class Counters:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.by_app: dict[str, Counter[str]] = {}
        self.errors: dict[str, Counter[str]] = {}

    def hit(self, api: str) -> None:
        self.calls[api] += 1

    def hit_app(self, appkey: str, api: str) -> None:
        self.by_app.setdefault(appkey, Counter())[api] += 1

    def error(self, api: str, code: int | str) -> None:
        self.errors.setdefault(api, Counter())[str(code)] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "by_app": {k: dict(v) for k, v in self.by_app.items()},
            "errors": {k: dict(v) for k, v in self.errors.items()},
        }

    def reset(self) -> None:
        self.calls.clear()
        self.by_app.clear()
        self.errors.clear()


@dataclass
class TransientFault:
    """Fail a share (``rate``) of matching calls with one of ``errors`` (errcodes, or HTTP statuses 5xx)."""

    apis: list[str] = field(default_factory=list)
    rate: float = 1.0
    errors: list[int] = field(default_factory=lambda: [-1])
    remaining: int | None = None  # stop after this many injected failures (None = forever)


@dataclass
class LatencyFault:
    apis: list[str] = field(default_factory=list)
    ms: int = 0


class Faults:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        # (corpid or "*", mobile) -> errcode answered by user create instead of creating the user
        self.mobile_errors: dict[tuple[str, str], int] = {}
        self.transient: list[TransientFault] = []
        self.latency: list[LatencyFault] = []

    def clear(self) -> None:
        self.mobile_errors.clear()
        self.transient.clear()
        self.latency.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "mobile_errors": [{"corpid": c, "mobile": m, "errcode": e} for (c, m), e in self.mobile_errors.items()],
            "transient": [asdict(f) for f in self.transient],
            "latency": [asdict(f) for f in self.latency],
        }

    def mobile_error(self, corpid: str, mobile: str) -> int | None:
        return self.mobile_errors.get((corpid, mobile)) or self.mobile_errors.get(("*", mobile))

    async def before_call(self, api: str, v1: bool) -> None:
        delay = sum(f.ms for f in self.latency if api_matches(f.apis, api))
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        for fault in self.transient:
            if fault.remaining is not None and fault.remaining <= 0:
                continue
            if not api_matches(fault.apis, api) or self.rng.random() >= fault.rate:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            raise self._error(self.rng.choice(fault.errors or [-1]), api, v1)

    @staticmethod
    def _error(code: int, api: str, v1: bool) -> Exception:
        if code in HTTP_FAULTS:
            return UpstreamFault(code)
        if code == 90018:
            return qps_error(v1, "*", api, 0)
        if v1:
            return V1Error(500, "systemError", "系统繁忙")
        if code == 88:
            return ApiError(88, "ding talk error[subcode=-1,submsg=系统繁忙]", sub_code="-1", sub_msg="系统繁忙")
        return ApiError(code)
