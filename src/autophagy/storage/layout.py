"""The files of a run or sweep folder, named in one place, and its manifest read back.

A folder holds ``config.json`` (a run's resolved config) or ``sweep.json`` (a sweep's table,
swept keys and every cell's resolved config), ``results.sqlite`` (the store), ``plots/`` and
``report.html``. The runner writes them and :mod:`autophagy.results` reads them; both take
the names from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autophagy.core.errors import ConfigError
from autophagy.storage.identity import KEY

CONFIG_FILE = "config.json"
SWEEP_FILE = "sweep.json"
STORE_FILE = "results.sqlite"
SHIPMENT_PREFIX = ".experiment-"  # + cell index + ".pickle": a run's resolved experiment for its workers


def read_manifest(folder: Path, *, identity: bool = False) -> tuple[str, dict[str, Any]] | None:
    """``(file name, manifest)`` of a folder's ``config.json`` or ``sweep.json``; None if it has
    neither; a :class:`ConfigError` if one cannot be read. The run's identity (version, run id,
    input fingerprints: :mod:`autophagy.storage.identity`) is left out unless ``identity``."""
    for name in (SWEEP_FILE, CONFIG_FILE):
        file = Path(folder) / name
        if file.is_file():
            try:
                manifest = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError("RUN", f"{file} cannot be read: {exc}") from None
            if not isinstance(manifest, dict) or (
                name == SWEEP_FILE and not {"name", "swept", "cells"} <= set(manifest)
            ):
                raise ConfigError("RUN", f"{file} is not a {name.removesuffix('.json')} manifest")
            return name, manifest if identity else {k: v for k, v in manifest.items() if k != KEY}
    return None
