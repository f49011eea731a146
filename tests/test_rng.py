"""Random streams: one generator per (replicate, generation, role), built lazily."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from autophagy.core import rng as rng_module
from autophagy.core.rng import Streams, stream, streams


def test_lazy_streams_equal_the_eager_list_they_replace(monkeypatch):
    built = []
    real = rng_module.stream
    monkeypatch.setattr(rng_module, "stream", lambda *a: built.append(a) or real(*a))
    gens = streams(7, [3, 1, 4], 2, "synthetic")
    assert len(gens) == 3 and built == []  # the length costs nothing
    draws = [g.standard_normal(5) for g in gens]
    for draw, r in zip(draws, [3, 1, 4], strict=True):
        np.testing.assert_array_equal(draw, stream(7, r, 2, "synthetic").standard_normal(5))
    assert gens[-1] is gens[2] and gens[0:2] == [gens[0], gens[1]]  # built once, then kept
    assert len(built) == 3
    with pytest.raises(IndexError):
        gens[3]
    again = copy.deepcopy(gens)  # reduced and rebuilt (as for workers) like a list of generators
    np.testing.assert_array_equal(again[1].standard_normal(3), gens[1].standard_normal(3))
    assert isinstance(gens, Streams)
