"""A rate limiter for enrichment's queries: a bound on those in flight and a token bucket
for those started per second (asyncio only).

DNS lookups (:mod:`enrich.dns_lookup`, :mod:`enrich.cymru`), RDAP and WHOIS clients and the
hosting lookups each hold one; none of them needs anything else from the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any


class RateLimiter:
    """At most ``max_concurrent`` queries in flight and ``per_second`` started per second
    (a token bucket holding up to ``burst`` tokens), asyncio only.

    ``async with limiter:`` around each query. ``per_second`` 0 means no rate limit.
    ``clock`` and ``sleep`` can be swapped for tests. ``in_flight`` and ``max_in_flight``
    count holders (for stats and tests).
    """

    def __init__(self, max_concurrent: int = 20, per_second: float = 100.0,
                 burst: int | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if per_second < 0:
            raise ValueError("per_second must not be negative")
        self.max_concurrent = max_concurrent
        self.per_second = per_second
        self.burst = burst if burst is not None else max(1, min(max_concurrent, int(per_second) or 1))
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(max_concurrent)
        self._bucket = asyncio.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()
        self.in_flight = 0
        self.max_in_flight = 0

    async def _token(self) -> None:
        if not self.per_second:
            return
        async with self._bucket:  # waiters queue here in order
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self.per_second)

    async def acquire(self) -> None:
        await self._slots.acquire()
        try:
            await self._token()
        except BaseException:
            self._slots.release()
            raise
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def release(self) -> None:
        self.in_flight -= 1
        self._slots.release()

    async def __aenter__(self) -> RateLimiter:
        await self.acquire()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()
