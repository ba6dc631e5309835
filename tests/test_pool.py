"""The worker pool's own promises: big payloads both ways, a worker that dies costs only its job,
a pool outlives one asyncio loop, and a shut-down pool fails its jobs instead of hanging."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from crawler.pool import JobFailed, ProcessPool


def _echo(data: bytes) -> tuple[int, bytes]:
    return os.getpid(), data[::-1]


def _die_on(n: int) -> int:
    if n == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return n + 1


def _pid() -> int:
    return os.getpid()


@pytest.fixture
def pool() -> Iterator[ProcessPool]:
    p = ProcessPool(2)
    yield p
    p.shutdown()


@pytest.mark.parametrize("size", [0, 10, 300_000, 5_000_000])
def test_payloads_of_any_size_travel_both_ways(pool: ProcessPool, size: int) -> None:
    body = os.urandom(size)

    async def main() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(pool.call(_echo, (body,), {}) for _ in range(6)))

    results = asyncio.run(main())
    assert all(data == body[::-1] for _, data in results)
    assert os.getpid() not in {pid for pid, _ in results}


def test_a_worker_killed_by_one_job_fails_that_job_only(pool: ProcessPool) -> None:
    async def main() -> list[object]:
        return await asyncio.gather(*(pool.call(_die_on, (n,), {}) for n in range(20)), return_exceptions=True)

    results = asyncio.run(main())
    assert isinstance(results[7], JobFailed) and "stopped" in str(results[7])
    assert [r for n, r in enumerate(results) if n != 7] == [n + 1 for n in range(20) if n != 7]
    assert pool.restarts >= 2  # its batch, then the job alone

    async def after() -> list[int]:
        return await asyncio.gather(*(pool.call(_pid, (), {}) for _ in range(8)))

    assert len(set(asyncio.run(after()))) <= 2  # the pool goes on with new workers


def test_the_pool_outlives_an_asyncio_loop(pool: ProcessPool) -> None:
    first = asyncio.run(pool.call(_pid, (), {}))
    second = asyncio.run(pool.call(_pid, (), {}))
    assert first != os.getpid() and second != os.getpid()


def test_a_shut_down_pool_stops_its_workers_and_refuses_jobs(pool: ProcessPool) -> None:
    async def main() -> list[int]:
        return await asyncio.gather(*(pool.call(_pid, (), {}) for _ in range(8)))

    pids = set(asyncio.run(main()))
    pool.shutdown()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError):
        asyncio.run(pool.call(_pid, (), {}))


def _exit_at_start() -> int:
    os._exit(3)


def test_a_pool_whose_workers_all_die_fails_its_jobs_instead_of_restarting_forever(pool: ProcessPool) -> None:
    async def main() -> list[object]:
        return await asyncio.gather(*(pool.call(_exit_at_start, (), {}) for _ in range(12)),
                                    return_exceptions=True)

    results = asyncio.run(asyncio.wait_for(main(), timeout=60))
    assert all(isinstance(r, JobFailed) for r in results)
    assert pool.restarts <= 2 * 12
