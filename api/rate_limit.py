"""Per-key rate limits: a token bucket per submitter key and kind of request, in process.

Each worker process keeps its own buckets. So that N workers together never grant a key
more than the configured rate, each worker grants 1/N of it (and of the burst, at least
one request): a key whose requests all land on one worker gets less than the setting,
never more. Auditors are not limited: they may already see every zone.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

__all__ = ["TokenBuckets", "retry_after"]


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class TokenBuckets:
    """Buckets of ``burst`` tokens, refilled at ``per_minute`` tokens a minute, by key.

    A rate of 0 turns the limit off.
    """

    per_minute: float
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_worker(cls, per_minute: float, burst: int, workers: int) -> TokenBuckets:
        """This worker's share of a limit that ``workers`` processes enforce together."""
        return cls(per_minute / workers, max(1, burst // workers))

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token of ``key``'s bucket: 0.0 when granted, else the seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate


def retry_after(wait_s: float) -> str:
    """The ``Retry-After`` header value: whole seconds, rounded up, at least one."""
    return str(max(1, math.ceil(wait_s)))
