"""Random streams: one independent generator per (replicate, generation, role).

Every draw in a run comes from ``SeedSequence(seed, spawn_key=(replicate, generation, role))``,
so a replicate's numbers never depend on which batch, worker or resume produced them, and
adding a metric (its own role) never changes the training samples.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

Rngs = Sequence[np.random.Generator]
"""One generator per replicate, aligned with the leading axis of batched arrays."""

ROLES: dict[str, int] = {
    "initial": 0,  # the generation-1 real set (also the fixed real set)
    "fresh": 1,  # fresh real draws of later generations
    "synthetic": 2,  # synthetic samples used for training
    "mixture": 3,  # which of the K latest models each synthetic sample comes from
    "fit": 4,  # randomness inside model fitting
    "subsample": 5,  # subsampling an accumulated pool to a fixed size
    "eval_real": 6,  # real samples for sample-based metrics
    "eval_synthetic": 7,  # synthetic samples for sample-based metrics
}


def role_key(role: str) -> int:
    """Stable integer for a role; unknown roles (e.g. ``metric:precision``) hash by name."""
    if role in ROLES:
        return ROLES[role]
    return 1_000 + zlib.crc32(role.encode())


def stream(seed: int, replicate: int, generation: int, role: str) -> np.random.Generator:
    """The generator for one (replicate, generation, role) cell of a run seeded by ``seed``."""
    seq = np.random.SeedSequence(seed, spawn_key=(replicate, generation, role_key(role)))
    return np.random.Generator(np.random.PCG64(seq))


class Streams(Sequence):
    """Generators for several replicates, in the order given, each built on first use.

    Building a generator (hashing its seed sequence) costs about as much as drawing a few
    thousand numbers, so a role that a model never draws from (e.g. ``fit`` of a closed-form
    estimator) or whose length alone is wanted costs nothing. A generator, once built, is kept:
    indexing twice gives the same, advanced, generator, as a list would.
    """

    def __init__(self, seed: int, replicates: Sequence[int], generation: int, role: str) -> None:
        self._key = (seed, generation, role)
        self._replicates = tuple(int(r) for r in replicates)
        self._built: dict[int, np.random.Generator] = {}

    def __len__(self) -> int:
        return len(self._replicates)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]  # negative indices, IndexError
        if i not in self._built:
            seed, generation, role = self._key
            self._built[i] = stream(seed, self._replicates[i], generation, role)
        return self._built[i]

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def streams(seed: int, replicates: Sequence[int], generation: int, role: str) -> Streams:
    """Generators for several replicates at once, in the order given (built lazily)."""
    return Streams(seed, replicates, generation, role)


def stacked_normal(rng: Rngs, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normals of shape ``(len(rng), *shape)``, row ``i`` drawn from ``rng[i]``."""
    return np.stack([g.standard_normal(shape) for g in rng]) if len(rng) else np.zeros((0, *shape))


def replicate_stream(rng: np.random.Generator, role: str) -> np.random.Generator:
    """A generator for ``role`` that depends only on the run seed and replicate ``rng`` belongs to.

    ``rng`` is any generator of :func:`stream` (spawn key ``(replicate, generation, role)``):
    the result is the same for every generation and role of that replicate, which is how a
    data source keeps per-replicate structure fixed across generations (the design of the
    regression loop). A generator built otherwise is keyed by its whole seed sequence.
    """
    return np.random.Generator(np.random.PCG64(replicate_seed(rng, role)))


def replicate_seed(rng: np.random.Generator, role: str) -> np.random.SeedSequence:
    """The seed sequence behind :func:`replicate_stream` (hashable through ``entropy`` and
    ``spawn_key``, so callers can cache what they derive from it)."""
    seq = rng.bit_generator.seed_seq
    entropy = getattr(seq, "entropy", None)
    replicate = tuple(getattr(seq, "spawn_key", ()))[:1]
    return np.random.SeedSequence(entropy, spawn_key=(*replicate, 2**31 + role_key(role)))
