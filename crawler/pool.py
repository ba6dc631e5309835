"""Worker processes driven by the asyncio loop that awaits them: no helper threads in the reactor.

`concurrent.futures.ProcessPoolExecutor` moves every job through three threads of the calling
process (a manager, a queue feeder and a wake-up pipe between them), each of which needs the GIL
the busy reactor holds: a fifth of the reactor process's time in a sweep went to those hand-offs
(py-spy, benchmarks/). Here the loop writes a batch of jobs straight into a worker's socket and
reads the results when the socket is readable; a worker runs its batches one after the other.

A worker that dies (killed, out of memory, a crash in a C parser on a hostile page) costs only
the jobs it held: they are tried once more each on their own, so a page that kills its worker
fails alone and its batch-mates are read; a new worker takes the dead one's place. Workers end
with the process that started them, even when it is killed (Linux PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger(__name__)

Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
Outcome = tuple[bool, Any]  # (True, result) or (False, "Error: message")

MAX_BATCH = 4  # jobs per hand-off; small, so that every worker gets its share
PER_WORKER = 2  # batches sent to one worker before it answers: one running, one waiting in its socket
MAX_STARTUP_DEATHS = 5  # workers in a row that died before any answer (a page that kills costs two): broken
_READ = 1 << 18


class JobFailed(RuntimeError):
    """A job raised in a worker, or its worker died (the message says which)."""


def run_batch(jobs: list[Job]) -> list[Outcome]:
    """Run jobs one after the other: (True, result) or (False, "Error: message") each."""
    out: list[Outcome] = []
    for fn, args, kwargs in jobs:
        try:
            out.append((True, fn(*args, **kwargs)))
        except Exception as exc:  # one job failing is that job's failure, not its batch's
            out.append((False, f"{type(exc).__name__}: {exc}"))
    return out


def _frame(data: bytes) -> bytes:
    """The header `multiprocessing.connection.Connection.send_bytes` writes before `data`."""
    n = len(data)
    return struct.pack("!i", n) if n <= 0x7FFFFFFF else struct.pack("!iQ", -1, n)


# ----------------------------------------------------------------------------- the worker side

def _serve(conn: Connection, name: str) -> None:
    """A worker's life: read a batch, run it, answer; end on a stop frame or when the pool is gone."""
    _set_up(name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the sweep's to handle, not each worker's
    # at exit, collecting a worker's heap (the rules' memos) only delays the sweep's end
    atexit.register(gc.freeze)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not data:
            return
        jobs: list[Job] = []
        try:
            jobs = pickle.loads(data)
            answer = pickle.dumps(run_batch(jobs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a job or a result that does not pickle
            answer = pickle.dumps([(False, f"{type(exc).__name__}: {exc}")] * max(1, len(jobs)))
        del data
        try:
            conn.send_bytes(answer)
        except OSError:
            return


def _set_up(name: str) -> None:
    """End when the process that started this one ends, even by kill -9 (Linux PR_SET_PDEATHSIG), and
    go by `name` in ps and top (PR_SET_NAME), so that a sweep's readers and its writer can be told apart."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # 15 = PR_SET_NAME (15 bytes at most)
    except (OSError, AttributeError):
        pass  # not Linux: the worker still ends on its socket's end of file


# ----------------------------------------------------------------------------- the loop side

@dataclass(slots=True)
class _Batch:
    jobs: list[Job]
    futures: list[asyncio.Future[Any]]
    retried: bool = False


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    fd: int
    inflight: deque[_Batch] = field(default_factory=deque)
    out: bytearray = field(default_factory=bytearray)  # written to the socket when it has room
    inbuf: bytearray = field(default_factory=bytearray)
    answered: bool = False


class ProcessPool:
    """`size` spawned worker processes fed from the running asyncio loop (see the module text).

    `call` is awaited from the loop; jobs given in the same turn of the loop travel together, up to
    `MAX_BATCH` at a time (one hand-off costs the reactor about as much as reading a small page).
    """

    def __init__(self, size: int, name: str = "patuh-read") -> None:
        if size < 1:
            raise ValueError("a process pool needs at least one worker")
        self.size = size
        self.name = name  # each worker's process name (ps, top)
        self._ctx = multiprocessing.get_context("spawn")  # a clean child, not a copy of a running reactor
        self._workers: list[_Worker] = []
        self._queue: deque[_Batch] = deque()  # batches no worker has yet
        self._gathering: _Batch | None = None  # jobs of this loop turn
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._startup_deaths = 0
        self.restarts = 0

    # -- submitting --------------------------------------------------------------------------
    async def call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._closed:
            raise RuntimeError("the worker pool is shut down")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._attach(loop)
        fut: asyncio.Future[Any] = loop.create_future()
        batch = self._gathering
        if batch is None:
            batch = self._gathering = _Batch([], [])
            loop.call_soon(self._close_gathering, batch)
        batch.jobs.append((fn, args, kwargs))
        batch.futures.append(fut)
        if len(batch.jobs) >= MAX_BATCH:
            self._close_gathering(batch)
        return await fut

    def _close_gathering(self, batch: _Batch) -> None:
        if self._gathering is batch:
            self._gathering = None
            self._queue.append(batch)
            self._dispatch()

    def _dispatch(self) -> None:
        while self._queue and not self._closed:
            while len(self._workers) < self.size:
                if not self._start():
                    return
            worker = min(self._workers, key=lambda w: len(w.inflight))
            if len(worker.inflight) >= PER_WORKER:
                return
            batch = self._queue.popleft()
            try:
                data = pickle.dumps(batch.jobs, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # an argument that does not pickle fails its batch here
                self._fail(batch, JobFailed(f"{type(exc).__name__}: {exc}"))
                continue
            worker.inflight.append(batch)
            self._send(worker, _frame(data), data)

    def _send(self, worker: _Worker, head: bytes, data: bytes) -> None:
        if worker.out:  # earlier bytes wait for room: keep the order
            worker.out += head
            worker.out += data
            return
        try:
            sent = os.writev(worker.fd, [head, data])
        except BlockingIOError:
            sent = 0
        except OSError:
            self._lost(worker)
            return
        total = len(head) + len(data)
        if sent < total:
            rest = (head + data)[sent:] if sent < len(head) else memoryview(data)[sent - len(head):]
            worker.out += rest
            assert self._loop is not None
            self._loop.add_writer(worker.fd, self._writable, worker)

    def _writable(self, worker: _Worker) -> None:
        try:
            sent = os.write(worker.fd, worker.out)
        except BlockingIOError:
            return
        except OSError:
            self._lost(worker)
            return
        del worker.out[:sent]
        if not worker.out and self._loop is not None:
            self._loop.remove_writer(worker.fd)

    # -- answers -----------------------------------------------------------------------------
    def _readable(self, worker: _Worker) -> None:
        eof = False
        while True:
            try:
                chunk = os.read(worker.fd, _READ)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            worker.inbuf += chunk
            if len(chunk) < _READ:
                break
        self._answers(worker)
        if eof:
            self._lost(worker)
        else:
            self._dispatch()

    def _answers(self, worker: _Worker) -> None:
        buf = worker.inbuf
        while len(buf) >= 4:
            (n,) = struct.unpack_from("!i", buf)
            start = 4
            if n == -1:
                if len(buf) < 12:
                    return
                (n,) = struct.unpack_from("!Q", buf, 4)
                start = 12
            if len(buf) < start + n:
                return
            with memoryview(buf) as view:
                data = view[start:start + n]
                try:
                    outcomes = pickle.loads(data)
                except Exception as exc:  # a result that does not unpickle here
                    outcomes = exc
                finally:
                    data.release()
            del buf[:start + n]
            if not worker.inflight:
                continue  # an answer to nothing (cannot happen): dropped
            batch = worker.inflight.popleft()
            worker.answered = True
            self._startup_deaths = 0
            if isinstance(outcomes, BaseException):
                self._fail(batch, JobFailed(f"{type(outcomes).__name__}: {outcomes}"))
            else:
                self._deliver(batch, outcomes)

    @staticmethod
    def _deliver(batch: _Batch, outcomes: list[Outcome]) -> None:
        for i, fut in enumerate(batch.futures):
            if fut.done():
                continue
            ok, value = outcomes[i] if i < len(outcomes) else (False, "no answer for this job")
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value if isinstance(value, BaseException) else JobFailed(value))

    @staticmethod
    def _fail(batch: _Batch, exc: BaseException) -> None:
        for fut in batch.futures:
            if not fut.done():
                with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits for it any more
                    fut.set_exception(exc)

    # -- workers coming and going -------------------------------------------------------------
    def _start(self) -> bool:
        if self._startup_deaths >= MAX_STARTUP_DEATHS:
            broken = JobFailed(f"worker processes die as they start ({self._startup_deaths} in a row)")
            while self._queue:
                self._fail(self._queue.popleft(), broken)
            return False
        mine, theirs = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=_serve, args=(theirs, self.name), daemon=True, name=self.name)
        process.start()
        theirs.close()  # the worker holds its end: its death is our end of file
        fd = mine.fileno()
        os.set_blocking(fd, False)
        worker = _Worker(process, mine, fd)
        self._workers.append(worker)
        assert self._loop is not None
        self._loop.add_reader(fd, self._readable, worker)
        return True

    def _lost(self, worker: _Worker) -> None:
        """A worker died: its jobs are tried again on their own (once), a new worker takes its place."""
        if worker not in self._workers:
            return
        self._workers.remove(worker)
        self._forget(worker)
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        if not worker.answered:
            self._startup_deaths += 1
        if not self._closed:
            self.restarts += 1
            log.warning("worker %s stopped (exit code %s) with %d batches: a new one takes its place",
                        worker.process.pid, code, len(worker.inflight))
        retry: list[_Batch] = []
        if worker.inflight:
            # the worker answers its batches in order: the first was running, the others never began
            running = worker.inflight.popleft()
            if running.retried and len(running.jobs) == 1:
                self._fail(running, JobFailed(f"the worker reading this job stopped (exit code {code})"))
            else:
                retry += [_Batch([job], [fut], retried=True)
                          for job, fut in zip(running.jobs, running.futures, strict=True) if not fut.done()]
            retry += worker.inflight
        worker.inflight.clear()
        self._queue.extendleft(reversed(retry))
        if not self._closed and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon(self._dispatch)  # not from inside a dispatch that found it dead

    def _forget(self, worker: _Worker) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(worker.fd)
            self._loop.remove_writer(worker.fd)
        worker.conn.close()

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the workers' sockets from `loop` (a new `asyncio.run` after the last one ended)."""
        old, self._loop = self._loop, loop
        for worker in self._workers:
            if old is not None and not old.is_closed():
                old.remove_reader(worker.fd)
                old.remove_writer(worker.fd)
            loop.add_reader(worker.fd, self._readable, worker)
            if worker.out:
                loop.add_writer(worker.fd, self._writable, worker)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every worker (a stop frame, then its end of file; killed if it does not end)."""
        self._closed = True
        stopped = JobFailed("the worker pool is shut down")
        if self._gathering is not None:
            self._fail(self._gathering, stopped)
            self._gathering = None
        while self._queue:
            self._fail(self._queue.popleft(), stopped)
        workers, self._workers = self._workers, []
        for worker in workers:
            if not worker.out:
                with contextlib.suppress(OSError):
                    os.write(worker.fd, _frame(b""))
            self._forget(worker)
            for batch in worker.inflight:
                self._fail(batch, stopped)
        for worker in workers:
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)


class Inline:
    """Runs each job at once in this process (`PATUH_WORKERS=0`: handy for debugging)."""

    size = 0

    async def call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return fn(*args, **kwargs)

    def shutdown(self, timeout: float = 5.0) -> None:
        pass
