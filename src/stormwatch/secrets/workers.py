"""Worker processes forked from this one, each running one function on the items sent to it.

A scan's workers need nothing from ``multiprocessing`` but ``fork``: importing it with
``concurrent.futures`` and starting a ``ProcessPoolExecutor`` (a manager thread, a queue feeder,
a call queue) took a tenth of a small scan's start-up. Here each worker has two pipes: items
go in, results come out, both pickled (see ``messages``). The parent never blocks on a
write (a worker busy writing a large result could otherwise wait on a parent waiting on it),
and hands out items as workers free up, so a slow item does not hold the others back. Results
come back in the order of the items, whatever the timing.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from stormwatch.secrets.messages import framed, read_message, write_message

Item = TypeVar("Item")
Result = TypeVar("Result")


def worker_count(requested: int | None) -> int:
    """How many worker processes to use (default: one per core); 0 where forking is not
    possible or not worth it."""
    count = requested or os.cpu_count() or 1
    return count if count > 1 and hasattr(os, "fork") else 0


class WorkerError(RuntimeError):
    """A worker process died, or raised an exception that cannot be sent back as it is."""


@dataclass
class _Worker:
    """The parent's side of one worker: its pid, pipes, unsent bytes and items in flight."""

    pid: int
    tasks: int
    results: int
    unsent: bytearray = field(default_factory=bytearray)
    in_flight: deque[int] = field(default_factory=deque)

    def send(self, index: int, item: object) -> None:
        payload = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        self.unsent += framed(payload)
        self.in_flight.append(index)
        self.flush()

    def flush(self) -> None:
        """Write what the pipe takes now (it is non-blocking)."""
        try:
            sent = os.write(self.tasks, self.unsent) if self.unsent else 0
        except BlockingIOError:
            return
        except BrokenPipeError as exc:
            raise WorkerError(f"worker process {self.pid} exited unexpectedly") from exc
        del self.unsent[:sent]

    def receive(self) -> tuple[int, Any]:
        """The next result (blocks until the worker has written it whole)."""
        message = read_message(self.results)
        if message is None:
            raise WorkerError(f"worker process {self.pid} exited unexpectedly")
        ok, value = pickle.loads(message)
        if not ok:
            raise value
        return self.in_flight.popleft(), value


class WorkerPool(Generic[Item, Result]):
    """``count`` forked processes running ``task``; a context manager (workers end on exit)."""

    def __init__(self, count: int, task: Callable[[Item], Result]) -> None:
        self.workers: list[_Worker] = []
        try:
            for _ in range(count):
                self.workers.append(self._fork(task))
        except BaseException:
            self.close(kill=True)
            raise

    def _fork(self, task: Callable[[Item], Result]) -> _Worker:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: it never returns from here
            status = 1
            try:
                for worker in self.workers:  # the other workers' pipes: EOF must reach them
                    os.close(worker.tasks)
                    os.close(worker.results)
                os.close(task_write)
                os.close(result_read)
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the whole group
                _serve(task, task_read, result_write)
                status = 0
            finally:
                os._exit(status)
        os.close(task_read)
        os.close(result_write)
        os.set_blocking(task_write, False)
        return _Worker(pid, task_write, result_read)

    def map(self, items: Iterable[Item], ahead: int) -> Iterator[Result]:
        """``task`` of each item, in the order of ``items``; at most ``ahead`` items are in
        flight per worker. A worker's exception is raised here."""
        source = iter(items)
        done: dict[int, Result] = {}
        submitted = yielded = 0
        exhausted = False
        while True:
            while not exhausted and (worker := self._free(ahead)) is not None:
                item = next(source, _END)
                if item is _END:
                    exhausted = True
                    break
                worker.send(submitted, item)
                submitted += 1
            while yielded in done:
                yield done.pop(yielded)
                yielded += 1
            if exhausted and yielded == submitted:
                return
            self._wait(done)

    def _free(self, ahead: int) -> _Worker | None:
        worker = min(self.workers, key=lambda w: len(w.in_flight))
        return worker if len(worker.in_flight) < ahead else None

    def _wait(self, done: dict[int, Result]) -> None:
        """Block until a worker has a result (taken into ``done``) or takes more input."""
        poll = select.poll()
        by_fd = {}
        for worker in self.workers:
            if worker.in_flight:
                by_fd[worker.results] = worker
                poll.register(worker.results, select.POLLIN)
            if worker.unsent:
                by_fd[worker.tasks] = worker
                poll.register(worker.tasks, select.POLLOUT)
        for fd, _event in poll.poll():
            worker = by_fd[fd]
            if fd == worker.tasks:
                worker.flush()
            else:
                index, value = worker.receive()
                done[index] = value

    def close(self, kill: bool = False) -> None:
        """End the workers: their input closes (they finish and exit), or they are killed."""
        for worker in self.workers:
            if kill:
                os.kill(worker.pid, signal.SIGTERM)
            os.close(worker.tasks)
            os.close(worker.results)
        for worker in self.workers:
            os.waitpid(worker.pid, 0)
        self.workers = []

    def __enter__(self) -> WorkerPool[Item, Result]:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.close(kill=kind is not None)


_END: Any = object()


def _serve(task: Callable[[Any], Any], tasks: int, results: int) -> None:
    """The worker's loop: read an item, run the task, write the result, until input ends."""
    while (message := read_message(tasks)) is not None:
        try:
            reply = pickle.dumps((True, task(pickle.loads(message))), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            reply = _error_reply(exc)
        write_message(results, reply)


def _error_reply(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps((False, WorkerError(f"{type(exc).__name__}: {exc}")))
