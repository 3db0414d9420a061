"""A small in-process token bucket, one bucket per key (an API token, or a client address).

Why in-process and not in the database: the database is the scarce resource on deadline
night, and a database limiter costs a write on every API request. The price is that each
gunicorn worker keeps its own buckets, so with N workers a client may get up to N times
the configured rate in the worst case (requests spread evenly over workers). That is a
fair trade for a limiter whose job is to stop a runaway script, not to meter billing.

The bucket holds at most ``burst`` requests and refills at ``rate`` per second. A request
takes one; an empty bucket answers how long until one is back, which the API sends as
``Retry-After`` (whole seconds, rounded up, at least 1).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from grader.errors import TooManyRequests

#: buckets kept; the least recently used are forgotten first (a forgotten bucket is full)
MAX_KEYS = 10_000


class TokenBucketLimiter:
    """Thread-safe token buckets keyed by string.

    Args:
        rate: tokens added per second (e.g. ``120 / 60`` for 120 requests a minute).
        burst: the bucket's size: how many requests may arrive at once.
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token for ``key``; 0.0 when allowed, else seconds until one is back."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        return wait

    def remaining(self, key: str) -> int:
        """Whole tokens left for ``key`` right now (for a ``RateLimit-Remaining`` header)."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
        return int(min(float(self.burst), tokens + (now - last) * self.rate))

    def hit(self, key: str) -> None:
        """Spend one token or refuse.

        Raises:
            TooManyRequests: the bucket is empty; ``retry_after`` is in whole seconds.
        """
        wait = self.take(key)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise TooManyRequests(
                f"rate limit exceeded: at most {self.burst} requests at once and "
                f"{self.rate * 60:g} a minute; retry in {retry_after} s",
                retry_after=retry_after,
            )
