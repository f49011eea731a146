"""Text documents of variable length as fixed-width rows of UTF-8 bytes.

The engine moves data as float arrays ``(R, n, L)``. A document travels as one row: its UTF-8
bytes (0..255) followed by the pad value ``PAD = -1`` up to the width ``L = max_bytes``; its
length is the count of non-pad entries (:func:`row_lengths`). Rows are tokenizer-free, so any
language model (and any metric) turns them back into text with :func:`decode_rows`, and a
model's generated text comes back with :func:`encode_texts`. A document longer than
``max_bytes`` is split into consecutive pieces at UTF-8 character boundaries (each piece a
document), so no text is lost; ``pack = true`` instead concatenates every document into one
stream cut into full-width windows.

Sources (``data.kind = "documents"``, key ``format``):

- ``"stdlib"`` (default, offline everywhere): the docstrings of a pinned list of 20 standard
  library modules collected with :mod:`inspect` (:data:`STDLIB_MODULES`; about 0.4 M
  characters on Python 3.11). Docstrings change between Python versions, so the version is
  part of the source (:attr:`DocumentsData.origin`).
- ``"text"``: a UTF-8 file, documents separated by blank lines.
- ``"jsonl"``: a JSON Lines file, one object per line, the document in ``field`` (``"text"``).
- ``"datasets"``: a folder written by ``datasets.Dataset.save_to_disk`` (or a ``DatasetDict``,
  ``split`` choosing the part), read with ``datasets.load_from_disk``: no hub, no network.

A fixed ``held_out`` share of the documents (chosen by a permutation with seed 0) is never
drawn for training: held-out perplexity is measured on it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from autophagy.core.errors import ConfigError
from autophagy.core.registry import Options
from autophagy.data.files import TrainRows, distinct_rows
from autophagy.data.text import read_text

PAD = -1.0
"""Pad value of a document row (never a byte)."""

STDLIB_MODULES = (
    "asyncio",
    "doctest",
    "socket",
    "inspect",
    "logging",
    "difflib",
    "typing",
    "decimal",
    "statistics",
    "ssl",
    "email.message",
    "smtplib",
    "logging.handlers",
    "unittest.mock",
    "json",
    "configparser",
    "threading",
    "unittest.case",
    "os",
    "http.server",
)
"""The pinned modules of the default corpus, in collection order."""


def _docstring(obj: object) -> str | None:
    try:
        with warnings.catch_warnings():  # e.g. typing.re's deprecation on access
            warnings.simplefilter("ignore")
            return inspect.getdoc(obj)
    except Exception:  # a few C objects refuse introspection
        return None


def stdlib_docstrings(modules: tuple[str, ...] = STDLIB_MODULES, min_chars: int = 40) -> list[str]:
    """Distinct docstrings (at least ``min_chars`` long) of each module, its public classes and
    routines defined in it, and those classes' public methods and properties, in sorted-name order."""
    seen: set[str] = set()
    out: list[str] = []

    def add(obj: object) -> None:
        doc = _docstring(obj)
        if doc and len(doc) >= min_chars and doc not in seen:
            seen.add(doc)
            out.append(doc)

    for name in modules:
        module = importlib.import_module(name)
        add(module)
        for attr, obj in sorted(vars(module).items()):
            owner = getattr(obj, "__module__", None) or ""
            if attr.startswith("_") or not (owner == name or owner.startswith(name + ".")):
                continue
            if inspect.isclass(obj) or inspect.isroutine(obj):
                add(obj)
            if inspect.isclass(obj):
                for member_name, member in sorted(vars(obj).items()):
                    if member_name.startswith("_"):
                        continue
                    if isinstance(member, classmethod | staticmethod):
                        member = member.__func__
                    if inspect.isroutine(member) or isinstance(member, property):
                        add(member)
    return out


def read_jsonl(path: Path, field: str) -> list[str]:
    """The ``field`` string of every line of a UTF-8 JSON Lines file (blank lines skipped)."""
    try:
        text = read_text(path)
    except ValueError as exc:
        raise ConfigError("data.path", str(exc)) from None
    docs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError("data.path", f"{path} line {number} is not JSON: {exc.msg}") from None
        if not isinstance(record, dict) or not isinstance(record.get(field), str):
            raise ConfigError("data.field", f"{path} line {number} has no string field {field!r}")
        docs.append(record[field])
    return docs


def read_datasets_folder(path: Path, field: str, split: str) -> list[str]:
    """The ``field`` column of a ``save_to_disk`` folder (``split`` of a DatasetDict)."""
    try:
        import datasets
    except ImportError as exc:
        raise ConfigError(
            "data.format", f"'datasets' needs the hf extra (pip install 'autophagy[hf]'): {exc}"
        ) from None
    path = Path(path)
    if not path.is_dir():
        raise ConfigError("data.path", f"{path} is not a folder written by save_to_disk")
    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise ConfigError(
            "data.path", f"{path} is not a datasets folder: {type(exc).__name__}: {exc}"
        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise ConfigError("data.split", f"{split!r} is not a split of {path} ({', '.join(loaded)})")
        loaded = loaded[split]
    if field not in loaded.column_names:
        raise ConfigError("data.field", f"{path} has no column {field!r} ({', '.join(loaded.column_names)})")
    column = loaded[field]
    if not all(isinstance(doc, str) for doc in column):
        raise ConfigError("data.field", f"column {field!r} of {path} does not hold strings")
    return list(column)


def split_utf8(raw: bytes, width: int) -> list[bytes]:
    """Consecutive pieces of at most ``width`` bytes, never splitting a UTF-8 character."""
    pieces, start = [], 0
    while start < len(raw):
        stop = min(start + width, len(raw))
        while stop < len(raw) and stop > start and (raw[stop] & 0xC0) == 0x80:
            stop -= 1  # continuation byte: move the cut to the character's first byte
        pieces.append(raw[start:stop])
        start = stop
    return pieces


def encode_texts(texts: list[str], width: int) -> np.ndarray:
    """Rows ``(m, width)``: each text's UTF-8 bytes, cut to ``width`` at a character boundary,
    then ``PAD``."""
    rows = np.full((len(texts), width), PAD)
    for i, text in enumerate(texts):
        pieces = split_utf8(text.encode("utf-8"), width)
        raw = pieces[0] if pieces else b""
        rows[i, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return rows


def row_lengths(rows: np.ndarray) -> np.ndarray:
    """Bytes per document row (entries before the first pad), shape ``rows.shape[:-1]``."""
    rows = np.asarray(rows)
    is_pad = rows < 0
    return np.where(is_pad.any(axis=-1), is_pad.argmax(axis=-1), rows.shape[-1])


def decode_rows(rows: np.ndarray) -> list[str]:
    """The text of each row ``(m, L)`` (bytes up to the first pad; invalid UTF-8 replaced)."""
    rows = np.atleast_2d(rows)
    lengths = row_lengths(rows)
    return [
        bytes(row[:k].astype(np.uint8)).decode("utf-8", errors="replace")
        for row, k in zip(rows, lengths, strict=True)
    ]


class DocumentsOptions(Options):
    """``format`` and ``path`` of the corpus (see the module docstring), ``field`` of a JSON Lines
    record or datasets column, ``split`` of a DatasetDict, row width ``max_bytes``, ``pack``
    (one stream cut into windows instead of documents), documents shorter than ``min_bytes``
    dropped, and the ``held_out`` share kept for evaluation."""

    format: Literal["stdlib", "text", "jsonl", "datasets"] = "stdlib"
    path: Path | None = None
    field: str = "text"
    split: str = "train"
    max_bytes: int = Field(512, ge=8)
    pack: bool = False
    min_bytes: int = Field(1, ge=1)
    held_out: float = Field(0.1, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _path_given(self) -> DocumentsOptions:
        if self.format != "stdlib" and self.path is None:
            raise ValueError(f"data.path is required for format = {self.format!r}")
        return self


def read_documents(o: DocumentsOptions) -> tuple[list[str], str]:
    """The documents of a source, and a line saying where they came from."""
    if o.format == "stdlib":
        version = ".".join(map(str, sys.version_info[:3]))
        return (
            stdlib_docstrings(),
            f"stdlib docstrings, Python {version}, modules {', '.join(STDLIB_MODULES)}",
        )
    if o.format == "jsonl":
        return read_jsonl(o.path, o.field), f"JSON Lines {o.path}"
    if o.format == "datasets":
        return read_datasets_folder(o.path, o.field, o.split), f"datasets folder {o.path} ({o.split})"
    try:
        text = read_text(o.path)
    except ValueError as exc:
        raise ConfigError("data.path", str(exc)) from None
    return [d.strip() for d in text.replace("\r\n", "\n").split("\n\n")], f"text file {o.path}"


@dataclass(frozen=True)
class DocumentsData(TrainRows):
    """Document rows ``train`` ``(N, L)`` to draw from and ``test`` ``(M, L)`` held out."""

    train: np.ndarray
    test: np.ndarray
    origin: str = ""

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` distinct training documents ``(n, L)``."""
        return distinct_rows(self.train, n, rng, "training documents in the corpus")

    def held_out(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Every held-out document ``(M, L)`` (never drawn for training)."""
        return self.test

    def decode(self, rows: np.ndarray) -> list[str]:
        return decode_rows(rows)

    def encode(self, texts: list[str]) -> np.ndarray:
        return encode_texts(texts, self.dim)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError("documents have no Gaussian moments; use text metrics")

    @classmethod
    def from_options(cls, o: DocumentsOptions) -> DocumentsData:
        docs, origin = read_documents(o)
        if o.pack:
            stream = "\n\n".join(docs).encode("utf-8")
            pieces = split_utf8(stream, o.max_bytes)
        else:
            pieces = [p for d in docs for p in split_utf8(d.encode("utf-8"), o.max_bytes)]
        pieces = [p for p in pieces if len(p.strip()) >= o.min_bytes]
        field = "data.path" if o.path is not None else "data.format"
        if len(pieces) < 3:
            raise ConfigError(
                field,
                f"the corpus has {len(pieces)} documents of at least {o.min_bytes} bytes; need 3 or more",
            )
        rows = encode_texts([p.decode("utf-8") for p in pieces], o.max_bytes)
        order = np.random.default_rng(0).permutation(len(rows))
        n_test = min(max(1, round(o.held_out * len(rows))), len(rows) - 2)
        test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
        return cls(rows[train], rows[test], origin)
