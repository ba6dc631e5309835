"""The worker pool as the reactor uses it: jobs of one loop turn travel in batches, and each job's
result or failure reaches its own caller."""

from __future__ import annotations

import asyncio
import os

import pytest

from crawler import workers
from crawler.pool import JobFailed


def _square(n: int) -> tuple[int, int]:
    if n == 13:
        raise ValueError("tiga belas")
    return n * n, os.getpid()


def test_batched_jobs_reach_their_own_callers_with_their_own_failures() -> None:
    executor = workers.pool(2)
    try:
        async def main() -> list[object]:
            return await asyncio.gather(*(workers.run(executor, _square, n) for n in range(30)),
                                        return_exceptions=True)

        results = asyncio.run(main())
    finally:
        workers.shutdown()
    for n, result in enumerate(results):
        if n == 13:
            assert isinstance(result, JobFailed) and "tiga belas" in str(result)
        else:
            assert isinstance(result, tuple) and result[0] == n * n
    pids = {r[1] for r in results if isinstance(r, tuple)}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # run in the pool's processes


def test_a_shut_down_pool_fails_the_jobs_instead_of_hanging() -> None:
    executor = workers.pool(1)
    workers.shutdown()

    async def main() -> object:
        return await asyncio.wait_for(workers.run(executor, _square, 2), timeout=10)

    with pytest.raises(RuntimeError):
        asyncio.run(main())
