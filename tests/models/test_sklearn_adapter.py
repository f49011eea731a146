"""``ap.from_sklearn``: any estimator with ``fit`` and ``sample`` as a model in one line,
batched over replicates, seeded from the loop's streams, passing the shared contract."""

from __future__ import annotations

import numpy as np
import pytest

import autophagy as ap
from autophagy.core.errors import ConfigError
from autophagy.core.registry import MODELS
from autophagy.testing import check_model, rngs

sklearn = pytest.importorskip("sklearn")
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.neighbors import KernelDensity  # noqa: E402


class Bootstrap:
    """A user's estimator (no scikit-learn base): resamples its training rows with Gaussian
    jitter of scale ``noise``; ``sample`` takes a ``random_state``."""

    def __init__(self, noise: float = 0.1) -> None:
        self.noise = noise

    def fit(self, x):
        self.rows_ = np.array(x)
        return self

    def sample(self, n, random_state=None):
        g = np.random.default_rng(random_state)
        picks = self.rows_[g.integers(len(self.rows_), size=n)]
        return picks + self.noise * g.standard_normal(picks.shape)


@pytest.fixture(autouse=True)
def registered():
    ap.from_sklearn("sk_gmm", GaussianMixture)
    ap.from_sklearn("sk_kde", KernelDensity, options={"bandwidth": 0.5, "kernel": "gaussian"})
    ap.from_sklearn("boot", Bootstrap)
    yield
    for name in ("sk_gmm", "sk_kde", "boot"):
        MODELS.pop(name, None)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        pytest.param(  # the same contract as sk_kde, at 8 s on a loaded 2-core machine
            "sk_gmm", {"n_components": 2, "init_params": "random_from_data"}, marks=pytest.mark.slow
        ),
        ("sk_kde", {}),
        ("boot", {"noise": 0.2}),
    ],
)
def test_adapted_estimators_pass_the_shared_contract(name, options):
    report = check_model(name, options=options)
    assert report.passed, str(report)
    assert MODELS[name].provider == __name__.split(".")[0]  # the registering module, not autophagy


def test_options_are_the_factory_keywords_and_unknown_keys_are_refused():
    fields = MODELS["sk_gmm"].options.model_fields
    assert fields["n_components"].default == 1 and "random_state" not in fields
    assert set(MODELS["sk_kde"].options.model_fields) == {"bandwidth", "kernel"}
    assert MODELS["sk_gmm"].has_log_prob and not MODELS["boot"].has_log_prob
    raw = _config("sk_gmm", {"n_componets": 2})
    with pytest.raises(ConfigError, match=r"^model\.n_componets: unknown key.*n_components"):
        ap.run(raw, "never", executor="inline", progress=False)


def test_each_replicate_is_the_reference_estimator_seeded_from_its_own_stream():
    """Replicate r's fit equals GaussianMixture(random_state = rng[r]'s first integer) fitted
    on its rows alone: the replicate axis and the per-replicate random states."""
    x = np.random.default_rng(0).normal(size=(3, 80, 2)) + np.array([0.0, 3.0])
    settings = MODELS["sk_gmm"].build(MODELS["sk_gmm"].options(n_components=2))
    fitted = settings.fit(x, rng=rngs(7))
    for r in range(3):
        seed = int(rngs(7)[r].integers(2**31 - 1))
        reference = GaussianMixture(2, random_state=seed).fit(x[r])
        np.testing.assert_array_equal(fitted.estimators[r].means_, reference.means_)
        np.testing.assert_allclose(fitted.log_prob(x)[r], reference.score_samples(x[r]), rtol=1e-12)


def test_default_bias_scales_deviations_from_the_training_mean_by_sqrt_lambda():
    """Common random numbers: the lambda draw is m + sqrt(lambda) (x_1 - m), exactly."""
    x = np.random.default_rng(1).normal(size=(2, 50, 3))
    fitted = MODELS["boot"].build(MODELS["boot"].options()).fit(x, rng=rngs(2, 2))
    one = fitted.sample(40, rng=rngs(3, 2), sampling_bias=1.0)
    for lam in (0.0, 0.25, 0.7):
        biased = fitted.sample(40, rng=rngs(3, 2), sampling_bias=lam)
        centre = x.mean(axis=1, keepdims=True)
        np.testing.assert_allclose(biased, centre + np.sqrt(lam) * (one - centre), rtol=1e-12, atol=1e-12)


def _config(kind, model=None):
    return {
        "name": "adapted",
        "replicates": 3,
        "generations": 3,
        "data": {"kind": "gaussian", "dim": 2},
        "model": {"kind": kind, **(model or {})},
        "loop": {"family": "fully_synthetic", "n_ini": 40, "n_synthetic": 40, "sampling_bias": 0.8},
        "metrics": {"names": ["wasserstein2", "precision"], "n_eval": 60},
    }


def test_a_loop_gives_the_same_rows_when_cut_into_tasks(tmp_path):
    """A loop in one task, and the same loop cut into one task per generation (each task
    starts from the checkpoint: rows + seeds, refitted by load), store identical rows."""
    raw = _config("sk_kde", {"bandwidth": 0.3})
    whole = ap.run(raw, tmp_path / "a", executor="inline", progress=False, plots=False).table()
    assert len(whole) == 3 * 3 * 2 and np.isfinite(whole["value"]).all()
    split = ap.run(raw, tmp_path / "b", executor="inline", progress=False, plots=False, task_seconds=0)
    assert split.table().equals(whole)
