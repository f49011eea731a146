"""Run folders on disk: their file names and manifest (:mod:`~autophagy.storage.layout`),
the SQLite store, and safe writes (the folder gate, atomic files, the folder lock).

Imports ``core`` and ``loop`` only; both the writer (``running``) and the reader
(``results``) stand on it.
"""
