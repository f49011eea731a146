"""Effective sample size n_e and how much synthetic data is admissible: the n_e curve and
its inversion (:mod:`~autophagy.admissible.phase`), the paper's phase maps
(:mod:`~autophagy.admissible.maps`) and the boundary search (:mod:`~autophagy.admissible.boundary`).

A user of the public API: it runs loops only through :func:`autophagy.api.run`.
"""
