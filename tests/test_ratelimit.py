"""enrich.ratelimit: the bound on queries in flight and the token bucket, without a network
(its use by real lookups: tests/test_dns_lookup.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from enrich.ratelimit import RateLimiter


def run(coro: Awaitable) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_limiter_holds_back_the_rest_until_a_slot_frees() -> None:
    async def main() -> tuple[int, int, int]:
        limiter = RateLimiter(max_concurrent=2, per_second=0)
        gate = asyncio.Event()
        done = 0

        async def work() -> None:
            nonlocal done
            async with limiter:
                await gate.wait()
                done += 1

        tasks = [asyncio.create_task(work()) for _ in range(7)]
        for _ in range(5):
            await asyncio.sleep(0)
        holding = limiter.in_flight
        gate.set()
        await asyncio.gather(*tasks)
        return holding, limiter.max_in_flight, done

    assert run(main()) == (2, 2, 7)


def test_token_bucket_paces_starts_without_real_time() -> None:
    now = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    async def main() -> None:
        limiter = RateLimiter(max_concurrent=10, per_second=2, burst=2,
                              clock=lambda: now[0], sleep=fake_sleep)
        for _ in range(5):
            async with limiter:
                pass
        assert slept == [0.5, 0.5, 0.5]  # two from the full bucket, then one per 1/2 s
        now[0] += 60  # a long pause refills the bucket only up to its size
        slept.clear()
        for _ in range(3):
            await limiter.acquire()
        assert slept == [0.5] and limiter.in_flight == 3
        for _ in range(3):
            limiter.release()

    run(main())


def test_limiter_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        RateLimiter(max_concurrent=0)
    with pytest.raises(ValueError):
        RateLimiter(per_second=-1)
    with pytest.raises(ValueError):
        RateLimiter(burst=0)
