"""Document rows: UTF-8 bytes padded with -1, cut at character boundaries; the readers."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.data.documents import (
    STDLIB_MODULES,
    DocumentsData,
    DocumentsOptions,
    decode_rows,
    encode_texts,
    row_lengths,
    split_utf8,
)


def test_rows_round_trip_and_cut_at_character_boundaries():
    texts = ["héllo wörld", "", "日本語のテキスト", "a" * 20]
    rows = encode_texts(texts, 12)
    assert rows.shape == (4, 12) and rows.dtype == np.float64
    decoded = decode_rows(rows)
    assert decoded[0] == "héllo wörl"  # 'ö' is 2 bytes: 11 bytes fit, the next 'd' does not
    assert decoded[1] == "" and decoded[3] == "a" * 12
    assert decoded[2] == "日本語の"  # 3-byte characters: 4 fit in 12 bytes
    np.testing.assert_array_equal(row_lengths(rows), [len(t.encode()) for t in decoded])
    for raw in ("ünïcödé " * 9).encode(), b"plain ascii text":
        pieces = split_utf8(raw, 5)
        assert b"".join(pieces) == raw and all(0 < len(p) <= 5 for p in pieces)
        assert all(p.decode("utf-8") for p in pieces)  # every piece is valid UTF-8


def test_jsonl_text_and_datasets_sources_agree(tmp_path):
    docs = [f"document {i}:" + " words" * (i % 7) for i in range(40)]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    (tmp_path / "d.txt").write_text("\n\n".join(docs))
    a = DocumentsData.from_options(DocumentsOptions(format="jsonl", path=tmp_path / "d.jsonl", max_bytes=64))
    b = DocumentsData.from_options(DocumentsOptions(format="text", path=tmp_path / "d.txt", max_bytes=64))
    np.testing.assert_array_equal(a.train, b.train)
    assert len(a.train) + len(a.held_out()) == 40 and len(a.held_out()) == 4
    assert set(a.decode(a.train)) | set(a.decode(a.held_out())) == {d.strip() for d in docs}
    datasets = pytest.importorskip("datasets")
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"body": docs})}).save_to_disk(
        str(tmp_path / "ds")
    )
    c = DocumentsData.from_options(
        DocumentsOptions(format="datasets", path=tmp_path / "ds", field="body", max_bytes=64)
    )
    assert sorted(c.decode(c.train)) == sorted(a.decode(a.train))
    with pytest.raises(ConfigError, match=r"data\.field"):
        DocumentsData.from_options(DocumentsOptions(format="datasets", path=tmp_path / "ds", max_bytes=64))
    with pytest.raises(ConfigError, match=r"data\.split"):
        DocumentsData.from_options(
            DocumentsOptions(format="datasets", path=tmp_path / "ds", field="body", split="test")
        )


def test_long_documents_split_and_packing():
    pytest.importorskip("json")
    o = DocumentsOptions(max_bytes=256)
    data = DocumentsData.from_options(o)
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in data.origin
    assert all(m in data.origin for m in STDLIB_MODULES)
    lengths = row_lengths(np.concatenate([data.train, data.held_out()]))
    assert lengths.max() <= 256 and lengths.min() >= 1
    packed = DocumentsData.from_options(DocumentsOptions(max_bytes=256, pack=True))
    full = row_lengths(packed.train)
    assert np.mean(full >= 253) > 0.99  # windows are full up to a character boundary
    assert abs(full.sum() + row_lengths(packed.held_out()).sum() - lengths.sum()) < 0.02 * lengths.sum()
