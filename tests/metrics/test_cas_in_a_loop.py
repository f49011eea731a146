"""CAS inside a real loop (digits, the engine's evaluation draws): a model that resamples its
training images with their labels is read far above chance, one that shuffles the labels at
chance (1/10 for the ten balanced digit classes), at every generation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import autophagy as ap
from autophagy.core.registry import MODELS


class ResampleOptions(ap.Options):
    shuffle_labels: bool = False


class Resampled:
    """Per replicate, the training rows ``(n, P + 1)`` (pixels, then the class label)."""

    def __init__(self, rows: np.ndarray, shuffle: bool) -> None:
        self.rows, self.shuffle = rows, shuffle

    def sample(self, n, *, rng, sampling_bias):
        out = []
        for g, rows in zip(rng, self.rows, strict=True):
            picked = rows[g.integers(0, rows.shape[0], size=n)].copy()
            if self.shuffle:
                picked[:, -1] = g.integers(0, 10, size=n)  # labels unrelated to the pixels
            out.append(picked)
        return np.stack(out)

    def state_dict(self):
        return {"rows": self.rows, "shuffle": np.array(self.shuffle)}


class Resampler:
    min_samples = 2

    def __init__(self, options: ResampleOptions) -> None:
        self.shuffle = options.shuffle_labels

    def fit(self, data, *, rng, init=None):
        return Resampled(np.asarray(data, dtype=np.float64), self.shuffle)

    def load(self, state):
        return Resampled(state["rows"], bool(state["shuffle"]))


@pytest.fixture
def resampler():
    ap.register_model("cas_test_resampler", options=ResampleOptions, build=Resampler, replace=True)
    yield "cas_test_resampler"
    MODELS.pop("cas_test_resampler", None)


def _cas(tmp_path, kind, shuffle) -> np.ndarray:
    config = {
        "name": f"cas-{shuffle}",
        "seed": 5,
        "replicates": 6,
        "generations": 3,
        "data": {"kind": "digits"},
        "model": {"kind": kind, "shuffle_labels": shuffle},
        "loop": {"family": "fully_synthetic", "n_ini": 300, "n_synthetic": 300},
        "metrics": {"names": ["cas"], "n_eval": 200},
    }
    run = ap.run(config, tmp_path / f"run-{shuffle}", progress=False, plots=False)
    return run.arrays()["cas"]  # (R, T)


def test_cas_in_a_loop_reads_resampled_digits_and_shuffled_labels_at_chance(tmp_path, resampler):
    honest, shuffled = _cas(tmp_path, resampler, False), _cas(tmp_path, resampler, True)
    assert honest.shape == shuffled.shape == (6, 3)
    assert np.all((honest >= 0) & (honest <= 1)) and np.all((shuffled >= 0) & (shuffled <= 1))
    r = honest.shape[0]
    q = stats.t.ppf(1 - 0.001 / 2, r - 1)  # 99.9 % Student-t intervals over the replicates
    for t in range(honest.shape[1]):
        mean, half = shuffled[:, t].mean(), q * shuffled[:, t].std(ddof=1) / np.sqrt(r)
        assert mean - half <= 0.1 <= mean + half, (t, mean, half)  # chance, 1/10
        gap = honest[:, t] - shuffled[:, t]
        low = gap.mean() - q * gap.std(ddof=1) / np.sqrt(r)
        assert low > 0.5, (t, gap)  # a ridge on 300 real digits reads over 0.85 (tests/metrics/test_cas.py)
