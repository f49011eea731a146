"""A block's checkpoint: its :class:`~autophagy.loop.engine.LoopState` as ``.npz`` bytes.

Arrays only (no pickle): the generation, the fixed real set and the pool (sample arrays, or
the exact simulator's group statistics), and each fitted model's ``state_dict``. A round trip
is exact, so a block resumed from its checkpoint gives the numbers it would have given unbroken.
"""

from __future__ import annotations

import io

import numpy as np

from autophagy.core.boundary import check_state, who
from autophagy.core.protocols import ModelSettings
from autophagy.loop.engine import LoopState
from autophagy.models.gaussian_exact import GroupStats


def _batch_arrays(name: str, batch: np.ndarray | GroupStats) -> dict[str, np.ndarray]:
    if isinstance(batch, GroupStats):
        return {f"{name}/{key}": value for key, value in batch.arrays().items()}
    return {name: batch}


def _batch(name: str, arrays: dict[str, np.ndarray]) -> np.ndarray | GroupStats:
    if name in arrays:
        return arrays[name]
    return GroupStats(arrays[f"{name}/count"], arrays[f"{name}/mean"], arrays[f"{name}/scatter"])


def encode_state(state: LoopState) -> bytes:
    """Serialise a loop state to ``.npz`` bytes (arrays only, no pickle)."""
    arrays = {"generation": np.asarray(state.generation)}
    arrays |= _batch_arrays("fixed", state.fixed) | _batch_arrays("pool", state.pool)
    for j, model in enumerate(state.models):
        state_dict = check_state(model.state_dict(), who(model))  # a plug-in's value, checked as it enters
        arrays.update({f"model{j}/{key}": value for key, value in state_dict.items()})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode_state(blob: bytes, model: ModelSettings) -> LoopState:
    """Inverse of :func:`encode_state`; ``model`` rebuilds the fitted models."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    states: dict[int, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        if key.startswith("model"):
            index, name = key[len("model") :].split("/", 1)
            states.setdefault(int(index), {})[name] = value
    models = [model.load(states[j]) for j in sorted(states)]
    return LoopState(int(arrays["generation"]), _batch("fixed", arrays), _batch("pool", arrays), models)
