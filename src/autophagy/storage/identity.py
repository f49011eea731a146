"""The identity of a run folder, so that a resume continues the same run or is refused.

A manifest (``config.json`` / ``sweep.json``) carries, under :data:`KEY`, the package version
that wrote it, a random run id that the store (``results.sqlite``, its ``meta`` table) holds
too, and a fingerprint of every input file the configs name (``data.path``, ``model.path``,
``data.labels``, ``data.features_path``: size, mtime and the sha256 of its bytes, computed once
per run). :func:`resume_identity` is
the one home of the rule: a resume whose input changed, whose store belongs to another run,
or whose store has no manifest is refused with a :class:`ConfigError` naming what differs;
``force_data`` accepts a changed input and appends the change to the identity's ``history``
(never rewritten). A folder written before these fields resumes: missing fields are unknown
and are written by the next run.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from autophagy.core.errors import ConfigError

KEY = "identity"
# config tables whose key names an input file or folder (mnist's and images' labels file, and
# the images source's feature extractor too)
INPUT_KEYS = (("data", "path"), ("model", "path"), ("data", "labels"), ("data", "features_path"))
_CHUNK = 1 << 20


def package_version() -> str:
    try:
        return metadata.version("autophagy")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def strip(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its identity (what the config comparison and readers see)."""
    return {k: v for k, v in manifest.items() if k != KEY}


def _configs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [c["config"] for c in manifest["cells"]] if "cells" in manifest else [manifest]


def input_paths(manifest: dict[str, Any]) -> list[str]:
    """Every input file or folder the manifest's configs name, sorted, as written."""
    found = set()
    for config in _configs(strip(manifest)):
        for section, key in INPUT_KEYS:
            table = config.get(section) if isinstance(config, dict) else None
            value = table.get(key) if isinstance(table, dict) else None
            if isinstance(value, str) and value:
                found.add(value)
    return sorted(found)


def _hash_file(path: Path, digest: Any) -> int:
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size


def fingerprint(path: str) -> dict[str, Any]:
    """``{"size", "mtime", "sha256"}`` of a regular file, or of a folder (every file under it,
    in name order: its relative name and bytes); ``{"missing": True}`` if it cannot be read."""
    where = Path(path)
    digest = hashlib.sha256()
    try:
        if where.is_dir():
            size, mtime = 0, 0.0
            for file in sorted(p for p in where.rglob("*") if p.is_file()):
                digest.update(str(file.relative_to(where)).encode("utf-8", "surrogatepass") + b"\0")
                size += _hash_file(file, digest)
                mtime = max(mtime, file.stat().st_mtime)
            return {"size": size, "mtime": mtime, "sha256": digest.hexdigest()}
        if not where.is_file():
            return {"missing": True}
        stat = where.stat()
        size = _hash_file(where, digest)
        return {"size": size, "mtime": stat.st_mtime, "sha256": digest.hexdigest()}
    except OSError:
        return {"missing": True}


def _differs(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """What differs between two fingerprints of one input (mtime alone is not a change)."""
    if old.get("missing") or new.get("missing"):
        return None if old.get("missing") == new.get("missing") else "it is missing now or was before"
    for field in ("size", "sha256"):
        if field in old and old[field] != new.get(field):
            return f"its {field} changed ({str(old[field])[:16]} -> {str(new.get(field))[:16]})"
    return None


def resume_identity(
    manifest: dict[str, Any],
    stored: dict[str, Any] | None,
    store_id: str | None,
    store_exists: bool,
    *,
    force_data: bool = False,
    where: str = "--out",
) -> dict[str, Any]:
    """The identity to write into the manifest of a run about to start or resume.

    ``manifest`` is the plan's (without identity), ``stored`` the folder's manifest (None if it
    has none), ``store_id`` the run id the store holds (None if it has none or there is no
    store). Refuses (:class:`ConfigError`, exit 2) a store without a manifest, a store of
    another run, and a changed input file unless ``force_data``.
    """
    if stored is None and store_exists:
        raise ConfigError(
            where,
            "holds results.sqlite but no config.json or sweep.json; it cannot be resumed safely "
            "(restore the manifest, or choose another folder)",
        )
    old = (stored or {}).get(KEY) if isinstance((stored or {}).get(KEY), dict) else {}
    run_id = old.get("run_id") if isinstance(old.get("run_id"), str) else None
    if run_id is not None and store_id is not None and store_id != run_id:
        raise ConfigError(
            where,
            f"results.sqlite belongs to another run (run id {store_id}, the manifest's is {run_id}); "
            "choose another folder",
        )
    if run_id is None:
        run_id = store_id or secrets.token_hex(8)
    history = list(old.get("history", [])) if isinstance(old.get("history"), list) else []
    previous = old.get("inputs") if isinstance(old.get("inputs"), dict) else {}
    inputs = {path: fingerprint(path) for path in input_paths(manifest)}
    for path, now in inputs.items():
        before = previous.get(path)
        change = _differs(before, now) if isinstance(before, dict) else None
        if change is None:
            continue
        if not force_data:
            raise ConfigError(
                "data.path",
                f"{path} differs from the file this run started from: {change}; resume with the "
                "same file, or accept the new one explicitly with --force-data (force_data=True)",
            )
        history.append({"input": path, "accepted": now, "replaced": before, "at": time.time()})
    first = "unknown" if stored else package_version()  # an older folder's writer is unknown
    identity = {
        "run_id": run_id,
        "version": package_version(),
        "first_version": old.get("first_version", old.get("version", first)),
        "inputs": inputs,
    }
    if history:
        identity["history"] = history
    return identity
