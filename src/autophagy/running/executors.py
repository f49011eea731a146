"""Executors: where tasks run. One small interface, four back ends.

An executor's ``submit(fn, arg)`` returns a :class:`concurrent.futures.Future`; the runner
waits on whichever finishes first and commits it. ``inline`` runs in the calling process,
``local`` (the default) in joblib's loky process pool on every core, ``ray`` on a Ray
cluster and ``slurm`` as SLURM job arrays (:mod:`autophagy.running.slurm`; optional extras,
imported only when chosen). Every worker limits its BLAS/OpenMP threads so that workers do
not oversubscribe the cores.

Optional members an executor may have, which the runner uses when present: ``in_flight``
(tasks kept submitted; default two per worker), ``submit_many`` (several tasks in one
submission), ``bind(folder, task_seconds)`` (called under the folder lock before the first
task), ``cancel(queued_only)`` (called when SIGINT or SIGTERM asks the run to stop, and with
``queued_only=True`` after a task failed: tasks not started need not wait their turn) and
``local_tasks`` (tasks held in this machine's memory at once, for the memory check).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from autophagy.core.errors import ConfigError, EnvironmentFault
from autophagy.running.signals import worker_init

if TYPE_CHECKING:
    from autophagy.running.slurm_options import SlurmOptions

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


class Executor(Protocol):
    """Runs ``fn(arg)`` somewhere; results come back as futures."""

    workers: int

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future: ...

    def shutdown(self) -> None: ...

    def terminate(self) -> None:
        """Stop every task now (a forced stop): terminate the workers, then kill them."""
        ...


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_LIMITED: dict[str, int] = {}  # the thread cap already applied in this worker process


def _limited(fn: Callable[[Any], Any], threads: int, arg: Any) -> Any:
    """``fn(arg)`` with BLAS and OpenMP pools capped at ``threads`` (set once per process:
    inspecting the loaded libraries costs far more than a small task)."""
    if _LIMITED.get("threads") != threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)  # stays in force for the life of the worker
        _LIMITED["threads"] = threads
    return fn(arg)


class InlineExecutor:
    """Runs each task at once in this process, under its thread settings (the reference path)."""

    def __init__(self) -> None:
        self.workers = 1

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(arg))
        except BaseException as exc:  # the runner re-raises it where it waits
            future.set_exception(exc)
        return future

    def shutdown(self) -> None:
        pass

    def terminate(self) -> None:
        pass  # the task runs in this thread: the KeyboardInterrupt already stopped it


def threads_per_worker(workers: int) -> int:
    """Cores per worker, never above a thread limit the user already set (``OMP_NUM_THREADS``)."""
    threads = max(1, cpu_count() // workers)
    user = os.environ.get("OMP_NUM_THREADS", "")
    return min(threads, int(user)) if user.isdigit() and int(user) > 0 else threads


class LokyExecutor:
    """joblib's loky process pool: ``workers`` processes (default: one per core), cores shared
    out as BLAS threads."""

    def __init__(self, workers: int | None = None) -> None:
        from joblib.externals.loky import get_reusable_executor

        self.workers = max(1, workers or cpu_count())
        self.threads = threads_per_worker(self.workers)
        env = dict.fromkeys(THREAD_VARIABLES, str(self.threads))
        self.pool = get_reusable_executor(
            max_workers=self.workers,
            env=env,
            timeout=60,
            initializer=worker_init,  # ignore Ctrl-C (the parent decides); die with the parent
            initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        return self.pool.submit(_limited, fn, self.threads, arg)

    def shutdown(self) -> None:
        pass  # the reusable pool stays warm for the next sweep in this process; loky reaps it

    def terminate(self) -> None:
        """SIGTERM every worker, SIGKILL those still alive after a second, and drop the pool."""
        import signal
        import time

        processes = list(getattr(self.pool, "_processes", {}).values())
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.kill(process.pid, signal.SIGTERM)
        end = time.monotonic() + 1.0
        while any(p.is_alive() for p in processes) and time.monotonic() < end:
            time.sleep(0.02)
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                if process.is_alive():
                    os.kill(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.pool.shutdown(wait=False, kill_workers=True)


class RayExecutor:
    """Ray tasks of one CPU each, on a local Ray or an existing cluster at ``address``; with
    ``gpus`` (a config asking for ``device = "cuda"``) each task also asks Ray for that many GPUs,
    and a cluster without GPUs is refused at once (:class:`EnvironmentFault`, exit 3)."""

    def __init__(self, address: str | None = None, workers: int | None = None, gpus: float = 0) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "--executor", "ray is not installed; pip install 'autophagy[ray]' or use --executor local"
            ) from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            env = {"env_vars": dict.fromkeys(THREAD_VARIABLES, "1")}
            ray.init(
                address=address,
                num_cpus=workers if address is None else None,
                runtime_env=env,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        resources = ray.cluster_resources()
        self.gpus = gpus
        if gpus and resources.get("GPU", 0) < gpus:
            self.shutdown()
            raise EnvironmentFault(
                "--executor ray",
                f"the config asks for device = 'cuda' but the Ray cluster has no GPU ({resources})",
            )
        self.workers = max(1, int(resources.get("CPU", 1)))
        if gpus:  # tasks in flight are bounded by the GPUs too
            self.workers = max(1, min(self.workers, int(resources["GPU"] // gpus)))
        self.remote = ray.remote(num_cpus=1, num_gpus=gpus)(_limited)

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        """A future that raises the task's own exception, not Ray's ``RayTaskError`` wrapper
        (whose message holds the remote traceback), so errors read as they do inline."""
        inner = self.remote.remote(fn, 1, arg).future()
        outer: Future = Future()

        def relay(done: Future) -> None:
            exc = done.exception()
            if exc is None:
                outer.set_result(done.result())
            else:
                outer.set_exception(getattr(exc, "cause", None) or exc)

        inner.add_done_callback(relay)
        return outer

    def shutdown(self) -> None:
        if self.started:
            self.ray.shutdown()

    def terminate(self) -> None:
        self.shutdown()


EXECUTORS = ("local", "inline", "ray", "slurm")


def warn(message: str) -> None:
    """One plain ``warning: ...`` line on stderr."""
    import sys

    print(f"warning: {message}", file=sys.stderr)


def make_executor(
    name: str,
    *,
    workers: int | None = None,
    address: str | None = None,
    tasks: int | None = None,
    slurm: SlurmOptions | None = None,
    task_seconds: float | None = None,
    gpus: float = 0,
) -> Executor:
    """The executor called ``name``; by default a local pool starts one worker per core, but no
    more than ``tasks``, and a single worker runs inline. ``slurm`` and ``task_seconds`` size
    SLURM jobs (``workers`` is then the number of jobs queued at once). ``gpus``: what each task
    asks Ray for (see :mod:`autophagy.running.devices`); local tasks share this machine's GPU."""
    if name not in EXECUTORS:
        raise ConfigError("--executor", f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    if address is not None and name != "ray":
        raise ConfigError("--address", "joins a Ray cluster; use it with --executor ray")
    if slurm is not None and name != "slurm":
        flag = slurm.given[0] if slurm.given else "--slurm-option"
        raise ConfigError(flag, "asks SLURM for resources; use it with --executor slurm")
    if workers is not None and workers < 1:
        raise ConfigError("--workers", f"must be at least 1, got {workers}")
    if name == "slurm":
        from autophagy.running.slurm import SlurmExecutor

        return SlurmExecutor(slurm, workers=workers, tasks=tasks, task_seconds=task_seconds)
    if workers is not None and workers > cpu_count() and address is None:
        cores = cpu_count()
        warn(f"--workers {workers} is above the {cores} cores this process may use; using {cores}")
        workers = cores
    if name == "ray":
        return RayExecutor(address, workers, gpus)
    wanted = workers if workers is not None else min(cpu_count(), tasks or cpu_count())
    if name == "inline" or wanted == 1:
        return InlineExecutor()
    return LokyExecutor(wanted)


def _apply(call: tuple[Callable[..., Any], tuple]) -> Any:
    fn, args = call
    return fn(*args)


def parallel_map(
    fn: Callable[..., Any], calls: list[tuple], workers: int | None = None, cost: list[float] | None = None
) -> list[Any]:
    """``[fn(*args) for args in calls]`` on a local pool of ``workers`` processes (default: every
    core; 1 runs inline), BLAS threads pinned per worker; results in the order of ``calls``.

    ``cost`` (one number per call) submits the most expensive first, so that the last to finish
    is a cheap one. Results never depend on ``workers``: every call draws from its own streams.
    """
    executor = make_executor("local", workers=workers, tasks=len(calls))
    order = sorted(range(len(calls)), key=lambda i: -cost[i]) if cost else range(len(calls))
    futures = {i: executor.submit(_apply, (fn, calls[i])) for i in order}
    try:
        return [futures[i].result() for i in range(len(calls))]
    finally:
        executor.shutdown()
