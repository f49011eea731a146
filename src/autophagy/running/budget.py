"""Sizes checked before any work: a run's row count and its peak memory, estimated from the
config, against what the machine has.

Estimates (bytes; ``B`` replicates in a block, ``n`` the largest training union over the
generations, pool included, ``d`` the data dimension, ``m`` = ``metrics.n_eval``):

- memory of one task ``8 B (4 n d + 3 d^2 + 2 m d + m min(m, 2048)) + 64 MiB``: the training
  union with its copies, a fitted model of up to three ``d x d`` matrices, the evaluation
  samples and one tile of nearest-neighbour distances, plus the interpreter's baseline. A
  model or data plug-in that holds more declares ``memory_bytes(replicates, n, dim) -> int``
  (on the object its ``build`` returns), which then replaces the model (or adds to the data)
  term. Peak = tasks in flight at once (workers) x one task.
- rows ``sum over cells of replicates x generations x metrics``, stored at about
  :data:`BYTES_PER_ROW` bytes each in SQLite.

A run is refused (``ConfigError``, exit 2, nothing written) when its peak memory exceeds the
machine's physical memory or its rows would not fit in the free space of the output file
system; the message gives the estimate and the limit. The estimates are deliberately coarse
(a factor of a few): they exist to refuse the impossible (``replicates = 10**12``,
``dim = 10**6``) before a folder is written, not to tune.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autophagy.core.errors import ConfigError
from autophagy.core.protocols import EstimatesMemory

BYTES_PER_ROW = 80  # SQLite row with its primary-key index entry (measured ~60-70)
BASELINE = 64 * 2**20


def physical_memory() -> int | None:
    """Bytes of RAM on this machine (None where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def free_disk(path: Path) -> int | None:
    """Free bytes on the file system that holds ``path`` (or its nearest existing parent)."""
    path = Path(path).absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def task_memory(config: Any, experiment: Any) -> int:
    """Estimated peak bytes of one task (one block of replicates) of a cell; see the module doc."""
    schedule = experiment.schedule
    block = min(int(config.block_size), int(config.replicates))
    last = int(config.generations)
    union = max(schedule.union_size(t) for t in ((1, last) if not schedule.timeline else range(1, last + 1)))
    d = int(getattr(experiment.data, "dim", 1) or 1)
    m = int(experiment.n_eval)
    own_model, own_data = experiment.model, experiment.data
    if isinstance(own_model, EstimatesMemory):
        model = own_model.memory_bytes(block, union, d)
    else:
        model = 8 * block * 3 * d * d
    data = own_data.memory_bytes(block, union, d) if isinstance(own_data, EstimatesMemory) else 0
    samples = 8 * block * (4 * union * d + 2 * m * d + m * min(m, 2048))
    return int(samples + model + data + BASELINE)


def row_count(cells: Iterable[Any]) -> int:
    """Rows a run or sweep stores when complete: replicates x generations x metrics per cell."""
    return sum(
        int(c.config.replicates) * int(c.config.generations) * len(c.experiment.metrics) for c in cells
    )


def check_budget(cells: list[Any], out: Path, workers: int = 1) -> tuple[int, int]:
    """Refuse a plan whose estimated peak memory or storage cannot fit (see the module doc);
    returns ``(peak bytes, rows)``."""
    worst = max(cells, key=lambda c: task_memory(c.config, c.experiment))
    tasks = sum(-(-int(c.config.replicates) // int(c.config.block_size)) for c in cells)
    peak = task_memory(worst.config, worst.experiment) * max(1, min(workers, tasks))
    memory = physical_memory()
    if memory is not None and peak > memory:
        field = "block_size" if worst.config.block_size > 1 and workers == 1 else "replicates"
        raise ConfigError(
            field,
            f"the run would need about {_size(peak)} of memory ({max(1, min(workers, tasks))} task(s) "
            f"at once) but this machine has {_size(memory)}; lower block_size, the sample sizes, "
            "the dimension or --workers",
        )
    rows = row_count(cells)
    disk = free_disk(out)
    if disk is not None and rows * BYTES_PER_ROW > disk:
        raise ConfigError(
            "replicates",
            f"the run would store {rows:,} rows (about {_size(rows * BYTES_PER_ROW)}) but "
            f"{out} has {_size(disk)} free; lower replicates, generations or metrics",
        )
    return peak, rows
