"""A recipe's design: its checks' margins with their reasons, R per profile, its seeds and the
history of its changes, in one data file per recipe (``reproduce/designs/ID.toml``).

The file's sha256 goes into every verdict JSON, so a verdict names the design it was judged
under, and a record of passes counts only runs made under the design in force when they ran.
A change of design after a run is listed in the file's ``[[changes]]`` (what changed, and the
run that prompted it) and on the recipe's page.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

DESIGNS = resources.files("autophagy.reproduce") / "designs"


@dataclass(frozen=True)
class Design:
    """One recipe's design file, parsed (``data``), with its path and sha256."""

    id: str
    path: Path
    sha256: str
    data: dict[str, Any]

    def replicates(self, profile: str) -> int | None:
        """R of ``profile`` (None: the design does not fix it)."""
        return self.data.get("replicates", {}).get(profile)

    def grid(self, profile: str) -> dict[str, tuple[int, ...]]:
        """The sizes the design declares for ``profile`` (``[grid.PROFILE]``, lists as tuples; its
        ``reason`` stays in the file): settings of the recipe's maps, e.g. G3's full grid."""
        grid = self.data.get("grid", {}).get(profile, {})
        return {key: tuple(value) for key, value in grid.items() if key != "reason"}

    def margin(self, key: str) -> tuple[float, str]:
        """The half-width of equivalence margin ``key`` and the reason declared for it."""
        try:
            entry = self.data["margins"][key]
        except KeyError:
            raise KeyError(f"design {self.id}: no margin {key!r} in {self.path.name}") from None
        return float(entry["value"]), str(entry["reason"])

    @property
    def seeds(self) -> list[int]:
        """The seeds whose runs the recipe's page counts under this design."""
        return list(self.data.get("seeds", [0]))

    def as_dict(self) -> dict[str, Any]:
        """What a verdict JSON records of the design."""
        return {
            "file": f"reproduce/designs/{self.path.name}",
            "sha256": self.sha256,
            "changes": len(self.data.get("changes", [])),
        }


@functools.cache
def design(recipe_id: str) -> Design | None:
    """The design of ``recipe_id``, or None when it has no file (a recipe made in a test)."""
    path = Path(str(DESIGNS / f"{recipe_id}.toml"))
    if not path.is_file():
        return None
    raw = path.read_bytes()
    return Design(recipe_id, path, hashlib.sha256(raw).hexdigest(), tomllib.loads(raw.decode()))


def margin(recipe_id: str, key: str) -> tuple[float, str]:
    """Margin ``key`` of ``recipe_id``'s design: (half-width, reason)."""
    found = design(recipe_id)
    if found is None:
        raise KeyError(f"recipe {recipe_id} has no design file")
    return found.margin(key)
