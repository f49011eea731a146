"""Effective sample size n_e and how much synthetic data is admissible: the n_e curve, limit
and inversion (:mod:`~autophagy.admissible.effective`), the boundary search of any model
(:mod:`~autophagy.admissible.boundary`), the paper's Gaussian phase maps
(:mod:`~autophagy.admissible.maps`), and their folders, figures and HTML page
(:mod:`~autophagy.admissible.folders`).

A user of the public API: it runs loops only through :func:`autophagy.api.run`.
"""
