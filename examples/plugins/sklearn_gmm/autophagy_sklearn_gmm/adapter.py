"""The same estimator in one line: ``ap.from_sklearn`` (``model.kind = "sklearn_gmm_adapted"``).

Compare with the hand-written wrapper in ``__init__.py``: the adapter batches over replicates,
seeds each replicate's ``GaussianMixture`` from the loop's streams and checkpoints the training
rows (refitting on load); its ``[model]`` keys are ``GaussianMixture``'s own keyword arguments
(``n_components``, ``covariance_type``...). Its lambda pulls draws toward the training mean
(covariance times lambda), not the tempered mixture of the wrapper, and it has no ``moments()``,
so ``trace_cov`` and ``mean_drift`` need the wrapper. Import this module (``plugins =
["autophagy_sklearn_gmm.adapter"]``) to register it.
"""

from __future__ import annotations

from sklearn.mixture import GaussianMixture

import autophagy as ap

ap.from_sklearn("sklearn_gmm_adapted", GaussianMixture, summary="GaussianMixture via ap.from_sklearn")
