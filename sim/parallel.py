"""Run many independent jobs on a ``concurrent.futures`` executor, with progress.

Sweeps and sensitivity analyses call one function on many inputs. Locally
they use a process pool over this machine's cores; any other executor with
the standard ``submit`` interface can be passed instead, for example a Dask
distributed client's ``client.get_executor()`` to spread a large Sobol
analysis over a cluster.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any, TextIO

from .errors import InputError


def max_workers() -> int:
    """Most workers of a local pool: four per core. More only add memory (each process holds ~100 MB)."""
    return 4 * (os.cpu_count() or 1)


def check_workers(workers: Any, flag: str = "--workers") -> int | None:
    """``workers`` as a whole number from 1 to ``max_workers()`` (None: one per core)."""
    if workers is None:
        return None
    text = str(workers).strip()
    if isinstance(workers, bool) or not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InputError(f"{flag} must be a whole number >= 1, not {workers!r:.40}")
    if int(text) > max_workers():
        raise InputError(f"{flag} = {int(text):,} is more than {max_workers()}, four per core of this machine: more "
                         "workers only add memory; to use more machines, pass an executor (see the README)")
    return int(text)


class Progress:
    """Prints 'label: done/total' to a stream, at most ~20 times per run; silent when off."""

    def __init__(self, label: str, total: int, stream: TextIO | None = sys.stderr):
        self.label, self.total, self.stream, self.done = label, total, stream, 0
        self._every = max(1, total // 20)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.stream is None:
            return
        finished = self.done == self.total
        if self.stream.isatty() and (self.done % self._every == 0 or finished):
            print(f"{self.label}: {self.done}/{self.total}", end="\n" if finished else "\r", file=self.stream, flush=True)
        elif finished:  # a log file gets one line, not a stream of carriage returns
            print(f"{self.label}: {self.done}/{self.total} done", file=self.stream, flush=True)


def run_all(
    function: Callable[..., Any],
    jobs: Sequence[tuple],
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> list[Any]:
    """``[function(*job) for job in jobs]``, in order, spread over processes.

    Parameters
    ----------
    function : callable
        A module-level function (picklable), called once per job.
    jobs : sequence of tuples
        Arguments of each call.
    workers : int, optional
        Processes of the local pool (default: one per core; 1 runs in this process).
    executor : concurrent.futures.Executor, optional
        Use this executor instead of a local pool (``workers`` is then ignored).
    progress : Progress, optional
        Advanced once per finished job.
    """
    if executor is not None:
        return _collect(executor, function, jobs, progress)
    count = min(workers or os.cpu_count() or 1, len(jobs))
    if count <= 1:
        results = []
        for job in jobs:
            results.append(function(*job))
            if progress:
                progress.advance()
        return results
    with process_pool(count) as pool:
        return _collect(pool, function, jobs, progress)


@contextlib.contextmanager
def process_pool(count: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``count`` worker processes for tumorsim's own functions.

    On an error, Ctrl-C or SIGTERM the workers are stopped at once: no worker
    may outlive its parent's command. The caller's script is not re-run in
    the workers (see ``_script_hidden``), so a learner's script needs no
    ``if __name__ == "__main__":`` guard.
    """
    with _script_hidden():
        pool = ProcessPoolExecutor(max_workers=count, mp_context=_CONTEXT, initializer=_worker_signals,
                                   initargs=(os.getpid(),))
        try:
            yield pool
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown()


@contextlib.contextmanager
def _script_hidden() -> Iterator[None]:
    """Hide the main script from the workers while a pool runs.

    Spawned and forkserver workers import the parent's main script to find
    functions defined there; a script without an ``if __name__ == "__main__":``
    guard would then start its analysis again in every worker and fail. The
    workers here only run functions of the ``sim`` package, so they never need it.
    """
    main = sys.modules.get("__main__")
    saved = {key: main.__dict__[key] for key in ("__file__", "__spec__") if main is not None and key in main.__dict__}
    try:
        if "__file__" in saved:
            del main.__file__
        if "__spec__" in saved:
            main.__spec__ = None
        yield
    finally:
        for key, value in saved.items():
            setattr(main, key, value)


_CONTEXT = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
"""Workers start from a clean single-threaded server, not as forks of a parent that may hold threads and
locks (numpy's, a caller's thread pool): forking those can deadlock a worker."""


def _worker_signals(parent: int) -> None:
    """Ctrl-C reaches the whole process group: only the parent handles it (and stops the workers);
    SIGTERM, which the parent sends to stop a worker, ends it at once; and a worker whose parent (the
    process that started the pool) has died, however (SIGKILL and SIGHUP included), ends within a second."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), name="tumorsim-parent-watch", daemon=True).start()


PARENT_CHECK_SECONDS = 0.5


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if not _running(parent):
            os._exit(1)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie, dead but not yet reaped, has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS): kill(pid, 0) is all there is
        return True


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel queued jobs and end the running workers now, instead of waiting for them."""
    processes = list(getattr(pool, "_processes", {}).values())  # not public API; absent: shutdown still cancels
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


def _collect(executor: Executor, function: Callable[..., Any], jobs: Iterable[tuple], progress: Progress | None) -> list:
    futures = {executor.submit(function, *job): index for index, job in enumerate(jobs)}
    results: list[Any] = [None] * len(futures)
    for future in as_completed(futures):
        results[futures[future]] = future.result()
        if progress:
            progress.advance()
    return results
