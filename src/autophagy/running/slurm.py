"""The SLURM executor (``--executor slurm``): tasks as job arrays, through ``submitit``.

The task model is the other executors': a task is a block of replicates run from its last
committed checkpoint for up to ``--task-seconds``; the parent commits each finished task in
one transaction and submits the block's next piece. What differs is the price of a task: a
job waits in the queue and starts a fresh interpreter (seconds at best, minutes on a busy
cluster), so tasks default to :data:`TASK_SECONDS` (10 minutes) instead of 2 seconds, and
every task ready at once goes out as one job array.

- **Where things go**: submitit's pickles and every job's log (``JOBID_INDEX_0_log.out`` and
  ``.err``) go to ``slurm/`` inside the run folder, created through the folder gate
  (:func:`~autophagy.storage.safety.make_folder`); a task's pickles are removed once it is
  committed, its logs stay. ``slurm/jobs`` lists the arrays this folder submitted.
- **A lost job** (preempted, timed out, cancelled, its node gone: out of the queue without a
  result for :attr:`SlurmExecutor.grace_s`) is resubmitted from the checkpoint its task was
  given, i.e. the last committed one, at most ``retries`` times in a row, then the run stops
  with :class:`JobLost` (exit 3; what was committed is kept). Jobs catch SLURM's early-warning
  signal (``USR2`` 90 s before the time limit) and end at once, so that a time-out costs no
  more than the task's own work.
- **Stopping**: on SIGINT or SIGTERM the runner calls :meth:`SlurmExecutor.cancel`, which
  cancels every job of this executor (``scancel``) at once, pending or running: what they
  computed since their last commit (at most ``--task-seconds`` each) is redone on resume.
  After a task failed, only the jobs still waiting in the queue are cancelled; those running
  finish and are committed before the failure is reported, as with every executor.
  A parent killed outright leaves its jobs running; the next run on the folder (which holds
  the folder lock, so that parent is gone) cancels the arrays listed in ``slurm/jobs`` first.
- **Plug-ins**: each task carries the parent's plug-in paths and ``__main__`` registrations,
  and the job's Python imports the config's plug-ins before it runs (:func:`run_task`), as in
  every executor. Jobs run the parent's interpreter (``sys.executable``) with the parent's
  environment (sbatch's default ``--export=ALL``), so the cluster's nodes must see the same
  file system: the run folder, the Python and the project.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autophagy.core.errors import ConfigError, EnvironmentFault
from autophagy.running.slurm_options import SlurmOptions, check_cluster, command, last_line, time_limit
from autophagy.storage.safety import make_folder, open_gated, safe_name

TASK_SECONDS = 600.0  # a SLURM task's default length: queue and start-up costs are seconds to minutes
RETRIES = 3  # resubmissions of one lost task, in a row, before the run stops with JobLost
MAX_IN_FLIGHT = 1000  # jobs queued at once by default (SLURM's default MaxArraySize is 1001)
SIGNAL_DELAY_S = 90  # submitit asks SLURM for USR2 this long before the time limit
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
TERMINAL = frozenset(
    {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"}
    | {"TIMEOUT", "SPECIAL_EXIT", "REVOKED"}
)


class JobLost(EnvironmentFault):
    """A SLURM job ended without a result more often than the executor resubmits it."""


def _job(fn: Callable[[Any], Any], arg: Any, threads: int) -> tuple[str, Any]:
    """What a SLURM job runs: ``fn(arg)`` with BLAS threads capped at the job's CPUs, returned
    as ``("ok", result)`` or ``("error", exception)`` (submitit itself keeps only a traceback's
    text; the runner re-raises the task's own exception, as inline). SLURM's early-warning
    signal ends the job at once without a result: the parent resubmits it from its checkpoint."""
    import signal

    from threadpoolctl import threadpool_limits

    def end(signum: int, frame: Any) -> None:
        os.write(2, b"autophagy: SLURM's time-limit or preemption signal: ending; the parent resubmits\n")
        os._exit(75)

    signal.signal(signal.SIGUSR2, end)
    threadpool_limits(limits=threads)
    try:
        return ("ok", fn(arg))
    except Exception as exc:  # the task's own error (ConfigError, PluginError, WorkerError)
        return ("error", exc)


@dataclass
class _Entry:
    job: Any  # submitit.slurm.slurm.SlurmJob
    fn: Callable[[Any], Any]
    arg: Any
    future: Future
    losses: int = 0
    gone_since: float | None = None
    state: str = "PENDING"
    history: list[str] = field(default_factory=list)


class SlurmExecutor:
    """Runs tasks as SLURM job arrays through submitit; see the module docstring.

    ``workers``: jobs queued or running at once (default: every block of the run, at most
    :data:`MAX_IN_FLIGHT`). ``poll_s``: how often result files are looked for; ``queue_s``:
    how often ``squeue`` is asked about the jobs; ``grace_s``: how long a job may be out of
    the queue without a result file before it counts as lost (a shared file system can show
    a file late). The cluster is asked at once whether it would accept the jobs; nothing is
    written until the runner binds the executor to its folder (under the folder lock).
    """

    def __init__(
        self,
        options: SlurmOptions | None = None,
        *,
        workers: int | None = None,
        tasks: int | None = None,
        task_seconds: float | None = None,
        retries: int = RETRIES,
        poll_s: float = 1.0,
        queue_s: float = 10.0,
        grace_s: float = 30.0,
    ) -> None:
        try:
            import submitit
        except ImportError:
            raise ConfigError(
                "--executor", "slurm needs submitit; pip install 'autophagy[slurm]' or use --executor local"
            ) from None
        self.submitit = submitit
        self.options = options or SlurmOptions()
        self.task_seconds = TASK_SECONDS if task_seconds is None else float(task_seconds)
        self.minutes = time_limit(self.options, self.task_seconds)
        check_cluster(self.options, self.minutes)
        self.workers = max(1, workers or min(tasks or MAX_IN_FLIGHT, MAX_IN_FLIGHT))
        self.in_flight = self.workers  # the runner keeps this many tasks submitted
        self.local_tasks = 1  # tasks in this machine's memory at once: none run here
        self.gpus = self.options.gpus_per_task  # jobs run on the cluster's nodes: see check_devices
        self.retries, self.poll_s, self.queue_s, self.grace_s = retries, poll_s, queue_s, grace_s
        self.folder: Path | None = None
        self.name = "autophagy"
        self._executor: Any = None
        self._jobs: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None

    def bind(self, out: Path, task_seconds: float | None = None) -> None:
        """Put logs and pickles in ``out/slurm`` (through the folder gate) and cancel the jobs a
        killed parent left behind (the caller holds ``out``'s lock, so that parent is gone).
        ``task_seconds``: the run's, if not the one the executor was made for."""
        out = Path(out)
        if task_seconds is not None and task_seconds != self.task_seconds:
            self.task_seconds, self.minutes = task_seconds, time_limit(self.options, task_seconds)
        folder = make_folder(out, out / "slurm")
        with self._lock:
            self.folder, self.name = folder, f"autophagy-{safe_name(out.resolve().name)}"
            listed = folder / "jobs"
            stale = listed.read_text(encoding="utf-8").split() if listed.is_file() else []
            if stale:
                command(["scancel", *stale])
                os.close(open_gated(out, listed, os.O_WRONLY | os.O_TRUNC))
            executor = self.submitit.SlurmExecutor(folder=folder, max_num_timeout=0)
            setup = [f"export {name}={self.options.cpus_per_task}" for name in THREAD_VARIABLES]
            executor.update_parameters(
                job_name=self.name,
                time=self.minutes,
                cpus_per_task=self.options.cpus_per_task,
                signal_delay_s=SIGNAL_DELAY_S,
                setup=setup,
                array_parallelism=self.workers,
                **({"partition": self.options.partition} if self.options.partition else {}),
                **({"gpus_per_task": self.options.gpus_per_task} if self.options.gpus_per_task else {}),
                **({"additional_parameters": dict(self.options.extra)} if self.options.extra else {}),
            )
            self._executor = executor

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> Future:
        return self.submit_many(fn, [arg])[0]

    def submit_many(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> list[Future]:
        """One job array for ``args``; a future per element, in order."""
        if self._executor is None:
            raise RuntimeError("SlurmExecutor.bind(folder) must be called before submitting")
        entries = [_Entry(None, fn, arg, Future()) for arg in args]
        with self._lock:
            self._launch(entries)
            if self._watcher is None or not self._watcher.is_alive():  # first use, or after shutdown
                self._closed.clear()
                self._watcher = threading.Thread(target=self._watch, name="autophagy-slurm", daemon=True)
                self._watcher.start()
        return [entry.future for entry in entries]

    def _launch(self, entries: list[_Entry]) -> None:
        """Submit ``entries`` as one array (or set their futures' exception if sbatch fails)."""
        if not entries:
            return
        threads = self.options.cpus_per_task
        try:
            jobs = self._executor.map_array(
                _job, [e.fn for e in entries], [e.arg for e in entries], [threads] * len(entries)
            )
        except Exception as exc:  # sbatch refused or the controller is gone
            fault = EnvironmentFault("slurm", f"sbatch failed: {last_line(str(exc))}")
            for entry in entries:
                entry.future.set_exception(fault)
            return
        fd = open_gated(self.folder.parent, self.folder / "jobs", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{jobs[0].job_id.split('_')[0]}\n".encode())
        finally:
            os.close(fd)
        for entry, job in zip(entries, jobs, strict=True):
            entry.job, entry.gone_since, entry.state = job, None, "PENDING"
            self._jobs[job.job_id] = entry

    def _watch(self) -> None:
        last_queue = 0.0
        while not self._closed.wait(self.poll_s):
            with self._lock:
                try:  # one directory listing, not a look-up per job
                    present = set(os.listdir(self.folder)) if self._jobs else set()
                except OSError:
                    present = set()
                for job_id, entry in list(self._jobs.items()):
                    if entry.job.paths.result_pickle.name in present:
                        self._collect(job_id, entry)
                if self._jobs and time.monotonic() - last_queue >= self.queue_s:
                    last_queue = time.monotonic()
                    self._check_queue()

    def _states(self) -> dict[str, str] | None:
        """``{job id: state}`` of this executor's jobs that SLURM still lists (None: no answer)."""
        query = ["squeue", "-h", "-r", "-t", "all", "--me", f"--name={self.name}", "-o", "%i|%T"]
        try:
            answer = command(query)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if answer.returncode != 0:
            return None  # the controller is busy or restarting: ask again later
        pairs = (line.split("|", 1) for line in answer.stdout.split() if "|" in line)
        return {job_id: state.split()[0] for job_id, state in pairs}

    def _check_queue(self) -> None:
        """Mark jobs out of the queue (or ended) without a result; after ``grace_s`` they are lost."""
        states = self._states()
        if states is None:
            return
        now = time.monotonic()
        lost = []
        for job_id, entry in self._jobs.items():
            state = states.get(job_id, "GONE")
            entry.state = state
            if state not in TERMINAL and state != "GONE":
                entry.gone_since = None
            elif entry.gone_since is None:
                entry.gone_since = now
            elif now - entry.gone_since >= self.grace_s:
                lost.append((job_id, entry))
        for job_id, entry in lost:
            if entry.job.paths.result_pickle.exists():
                self._collect(job_id, entry)
            else:
                self._lose(job_id, entry, entry.state)

    def _collect(self, job_id: str, entry: _Entry) -> None:
        from submitit.core.utils import pickle_load

        paths = entry.job.paths
        try:
            outcome, value = pickle_load(paths.result_pickle)
        except Exception as exc:  # an unreadable result: the job is lost, run it again
            self._lose(job_id, entry, f"unreadable result ({exc})")
            return
        if outcome != "success":  # submitit's own failure (e.g. the job could not unpickle the task)
            self._lose(job_id, entry, f"failed: {last_line(str(value))}")
            return
        del self._jobs[job_id]
        for path in (paths.result_pickle, paths.submitted_pickle):
            path.unlink(missing_ok=True)
        kind, payload = value
        if kind == "ok":
            entry.future.set_result(payload)
        else:
            entry.future.set_exception(payload)

    def _lose(self, job_id: str, entry: _Entry, why: str) -> None:
        """Resubmit a job that ended without a result, or give up after ``retries`` losses."""
        del self._jobs[job_id]
        command(["scancel", job_id])  # a job that comes back (a requeue) must not run twice
        entry.losses += 1
        entry.history.append(f"{job_id} {why}")
        log = entry.job.paths.stderr
        where = f"slurm job {job_id}"
        if entry.losses > self.retries:
            tried = "; ".join(entry.history)
            entry.future.set_exception(
                JobLost(
                    where,
                    f"ended without a result {entry.losses} times ({tried}); see its log {log}; "
                    "committed work is kept, the same command resumes",
                )
            )
            return
        _warn(f"{where} ended without a result ({why}); resubmitted ({entry.losses} of {self.retries})")
        entry.job = None
        self._launch([entry])

    def cancel(self, queued_only: bool = False) -> None:
        """Cancel every job now (``scancel``), or only those still waiting in the queue; their
        futures raise :class:`JobLost`. What a running job computed since its task's checkpoint
        is redone on resume."""
        with self._lock:
            for job_id, entry in list(self._jobs.items()):  # a result already written is kept
                if entry.job.paths.result_pickle.exists():
                    self._collect(job_id, entry)
            waiting = {i for i, state in (self._states() or {}).items() if state == "PENDING"}
            entries = [(i, e) for i, e in self._jobs.items() if not queued_only or i in waiting]
            for job_id, _ in entries:
                del self._jobs[job_id]
        if entries:
            ids = [job_id for job_id, _ in entries]
            command(["scancel", *(ids if queued_only else sorted({i.split("_")[0] for i in ids}))])
        for job_id, entry in entries:
            entry.future.set_exception(JobLost(f"slurm job {job_id}", "cancelled: the run is stopping"))

    def terminate(self) -> None:
        self.cancel()

    def shutdown(self) -> None:
        """Cancel what is left and stop watching; logs stay in the folder."""
        self.cancel()
        self._closed.set()


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
