"""Options of SLURM jobs (``--slurm-partition``, ``--slurm-time``, ``--cpus-per-task``,
``--gpus-per-task``, ``--slurm-option KEY=VALUE``): read, checked, and tried on the cluster.

Every check happens before anything is written: a malformed value is refused here, and
:func:`check_cluster` asks ``sbatch --test-only`` (nothing is queued) whether the cluster would
accept the jobs, naming the first flag it refuses. A job's time limit defaults to
1.5 x ``--task-seconds`` + 5 minutes (:func:`time_limit`).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autophagy.core.errors import ConfigError, EnvironmentFault

RESERVED = {  # sbatch options the executor sets itself: the flag to use instead, or None
    "partition": "--slurm-partition",
    "p": "--slurm-partition",
    "time": "--slurm-time",
    "t": "--slurm-time",
    "cpus-per-task": "--cpus-per-task",
    "c": "--cpus-per-task",
    "gpus-per-task": "--gpus-per-task",
    **dict.fromkeys(
        ("array", "a", "output", "o", "error", "e", "open-mode", "signal", "job-name", "J"), None
    ),
    **dict.fromkeys(("wrap", "parsable", "test-only", "chdir", "D", "wckey"), None),
}
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


@dataclass(frozen=True)
class SlurmOptions:
    """What each job asks SLURM for; see :func:`slurm_options` for the checks."""

    partition: str | None = None
    time_s: int | None = None  # the job's time limit; None: from --task-seconds (see time_limit)
    cpus_per_task: int = 1
    gpus_per_task: int = 0
    extra: tuple[tuple[str, str], ...] = ()  # --slurm-option KEY=VALUE, keys with dashes
    given: tuple[str, ...] = ()  # the flags that were set (refused with another executor)


def parse_time(text: str) -> int:
    """Seconds in a SLURM time (``MIN``, ``MIN:SEC``, ``H:MIN:SEC``, ``D-H``, ``D-H:MIN``,
    ``D-H:MIN:SEC``); ConfigError naming ``--slurm-time`` otherwise."""
    match = _TIME.match(str(text).strip())
    if not match:
        raise ConfigError(
            "--slurm-time", f"expected minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]], got {text!r}"
        )
    days, a, b, c = match.groups()
    if days is not None:  # D-H, D-H:M, D-H:M:S
        seconds = int(days) * 86400 + int(a) * 3600 + int(b or 0) * 60 + int(c or 0)
    elif c is not None:  # H:M:S
        seconds = int(a) * 3600 + int(b) * 60 + int(c)
    else:  # M or M:S
        seconds = int(a) * 60 + int(b or 0)
    if seconds <= 0:
        raise ConfigError("--slurm-time", f"must be positive, got {text!r}")
    return seconds


def slurm_options(
    partition: str | None = None,
    time: str | int | None = None,
    cpus_per_task: int | None = None,
    gpus_per_task: int | None = None,
    options: Sequence[str] | Mapping[str, Any] | None = (),
) -> SlurmOptions:
    """Checked :class:`SlurmOptions` from the CLI's flags (or :func:`autophagy.run`'s
    ``slurm={...}``): an int ``time`` is minutes; ``options`` are ``KEY=VALUE`` strings (or a
    mapping) of other sbatch long options. Bad values raise ConfigError naming the flag."""
    if partition is not None and (not isinstance(partition, str) or not re.match(r"^[\w.,-]+$", partition)):
        raise ConfigError("--slurm-partition", f"expected a partition name, got {partition!r}")
    time_s = None
    if isinstance(time, bool):
        raise ConfigError("--slurm-time", f"expected a SLURM time, got {time!r}")
    if isinstance(time, int):
        time_s = parse_time(str(time))
    elif time is not None:
        time_s = parse_time(time)
    counts = {"--cpus-per-task": cpus_per_task, "--gpus-per-task": gpus_per_task}
    for flag, value in counts.items():
        low = 1 if flag == "--cpus-per-task" else 0
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise ConfigError(flag, f"must be a whole number >= {low}, got {value!r}")
    if isinstance(options, str):  # one KEY=VALUE, never its letters
        options = [options]
    if options is not None and not isinstance(options, Mapping | Sequence):
        raise ConfigError("--slurm-option", f"expected KEY=VALUE strings or a mapping, got {options!r}")
    options = options or ()
    pairs = options.items() if isinstance(options, Mapping) else [_split(item) for item in options]
    extra = []
    for key, value in pairs:
        key = str(key).removeprefix("--").replace("_", "-")
        if not _KEY.match(key):
            raise ConfigError("--slurm-option", f"expected KEY=VALUE with KEY an sbatch option, got {key!r}")
        if key in RESERVED:
            instead = RESERVED[key]
            hint = f"use {instead}" if instead else "autophagy sets it for every job"
            raise ConfigError("--slurm-option", f"{key} cannot be set here: {hint}")
        extra.append((key, str(value)))
    flags = {
        "--slurm-partition": partition,
        "--slurm-time": time,
        **counts,
        "--slurm-option": options or None,
    }
    given = tuple(flag for flag, value in flags.items() if value is not None)
    return SlurmOptions(partition, time_s, cpus_per_task or 1, gpus_per_task or 0, tuple(extra), given)


def _split(item: str) -> tuple[str, str]:
    key, sep, value = str(item).partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ConfigError("--slurm-option", f"expected KEY=VALUE (an sbatch long option), got {item!r}")
    return key.strip(), value.strip()


def time_limit(options: SlurmOptions, task_seconds: float) -> int:
    """A job's time limit in whole minutes: ``--slurm-time``, or by default the task's length
    x 1.5 plus 5 minutes (start-up, a generation past the budget, SLURM's warning signal).
    A limit that leaves a task less than 2 minutes beyond ``--task-seconds`` is refused."""
    if options.time_s is None:
        return math.ceil((1.5 * task_seconds + 300) / 60)
    if options.time_s < task_seconds + 120:
        raise ConfigError(
            "--slurm-time",
            f"{options.time_s} s leaves a {task_seconds:g} s task (--task-seconds) less than 2 minutes "
            "for start-up and SLURM's warning signal; raise --slurm-time or lower --task-seconds",
        )
    return math.ceil(options.time_s / 60)


def command(args: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run a SLURM client command in its own session (a Ctrl-C on the terminal reaches this
    process, which decides, not the command); output captured as text."""
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, start_new_session=True, check=False
    )


def _sbatch_flags(options: SlurmOptions, minutes: int) -> list[str]:
    flags = [f"--time={minutes}", f"--cpus-per-task={options.cpus_per_task}"]
    flags += [f"--partition={options.partition}"] if options.partition else []
    flags += [f"--gpus-per-task={options.gpus_per_task}"] if options.gpus_per_task else []
    return flags + [f"--{key}={value}" for key, value in options.extra]


def check_cluster(options: SlurmOptions, minutes: int) -> None:
    """Ask SLURM (``sbatch --test-only``, nothing is queued) whether it would accept these jobs;
    a refusal is a ConfigError naming the first flag that makes it refuse."""
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        raise ConfigError(
            "--executor", "slurm: no SLURM here (sbatch is not on the PATH); use --executor local"
        )
    try:
        answer = command(["sinfo", "-h", "-o", "%R"])
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentFault("slurm", f"sinfo did not answer: {exc}") from None
    if answer.returncode != 0:
        raise EnvironmentFault("slurm", f"the controller does not answer: {last_line(answer.stderr)}")
    partitions = sorted(set(answer.stdout.split()))
    if options.partition is not None and options.partition not in partitions:
        raise ConfigError(
            "--slurm-partition",
            f"no partition {options.partition!r}; this cluster has {', '.join(partitions)}",
        )
    if _test_only(_sbatch_flags(options, minutes)) is None:
        return
    # find the first flag that makes sbatch refuse, adding them one at a time
    part, cpus, gpus = options.partition, options.cpus_per_task, options.gpus_per_task
    stages = [("--slurm-partition" if part else "--executor", SlurmOptions(part), 1)]
    stages += [("--slurm-time", SlurmOptions(part), minutes)]
    stages += [("--cpus-per-task", SlurmOptions(part, None, cpus), minutes)]
    stages += [("--gpus-per-task", SlurmOptions(part, None, cpus, gpus), minutes)]
    stages += [
        ("--slurm-option", SlurmOptions(part, None, cpus, gpus, options.extra[: i + 1]), minutes)
        for i in range(len(options.extra))
    ]
    for flag, partial, limit in stages:
        refusal = _test_only(_sbatch_flags(partial, limit))
        if refusal is not None:
            what = f" (a {limit}-minute limit)" if flag == "--slurm-time" else ""
            raise ConfigError(flag, f"sbatch refuses it{what}: {refusal}")
    raise ConfigError(
        "--slurm-option", f"sbatch refuses these options: {_test_only(_sbatch_flags(options, minutes))}"
    )


def _test_only(flags: list[str]) -> str | None:
    """sbatch's reason for refusing ``flags`` (None if it would accept them)."""
    try:
        answer = command(["sbatch", "--test-only", *flags, "--wrap=true"])
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if answer.returncode == 0 else last_line(answer.stderr)


def last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1].removeprefix("sbatch: error: ") if lines else "no message"
