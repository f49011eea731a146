"""The generation loop: :mod:`~autophagy.loop.engine` runs a block of replicates one
generation after another, and :mod:`~autophagy.loop.checkpoint` encodes a block's state.

Imports ``core`` and the plug-in folders (``models``, ``data``, ``metrics``, ``mitigations``)
through their registries; never storage, running or results.
"""
