"""Text sources: the built-in language's exact probabilities, text files and their errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import base_config

from autophagy.core.errors import ConfigError
from autophagy.data import DATA, read_text
from autophagy.running.config import resolve


def language(**options):
    return DATA["text_grammar"].build(DATA["text_grammar"].options(**options))


def test_language_probabilities_sum_to_one_and_match_draw_frequencies():
    lang = language(vocab_size=3, length=3)
    every = np.array(list(itertools.product(range(3), repeat=3)))
    probs = np.exp(lang.log_prob(every))
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    n = 30_000
    draws = lang.draw(n, rng=np.random.default_rng(0)).astype(int)
    freq = np.bincount(draws @ np.array([9, 3, 1]), minlength=27) / n
    # binomial standard error of every sequence's frequency, 4.5 of them
    assert np.all(np.abs(freq - probs) <= 4.5 * np.sqrt(probs * (1 - probs) / n))


def test_entropy_rate_is_the_mean_negative_log_probability():
    lang = language(vocab_size=20, length=10)
    logp = lang.log_prob(lang.draw(20_000, rng=np.random.default_rng(1)))
    estimate = -logp.mean() / 10
    assert abs(estimate - lang.entropy_rate()) <= 4.5 * logp.std(ddof=1) / 10 / np.sqrt(logp.size)


def test_text_file_windows_vocabulary_and_held_out_end(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    data = DATA["text_file"].build(
        DATA["text_file"].options(path=path, level="word", length=7, held_out=0.25)
    )
    assert data.vocab[0] == "the" and data.vocab_size == 6  # the, cat, sat, on, mat, "."
    assert data.train.shape == (30, 7) and data.test.shape == (10, 7)  # 280 tokens, 40 windows
    assert data.decode(data.train[:1])[0] == "the cat sat on the mat ."
    drawn = data.draw(30, rng=np.random.default_rng(0)).astype(int)
    assert sorted(map(tuple, drawn)) == sorted(map(tuple, data.train))  # distinct training windows
    chars = DATA["text_file"].build(DATA["text_file"].options(path=path, length=12))
    assert chars.decode(chars.train[:1])[0] == "the cat sat "


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("caf\u00e9 au lait".encode("latin-1"), "not valid UTF-8"),
    ],
)
def test_bad_text_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_text(path)
    raw = base_config()
    raw.update(data={"kind": "text_file", "path": str(path)}, model={"kind": "ngram"}, metrics={"names": []})
    with pytest.raises(ConfigError, match=rf"^data\.path: .*{message}"):
        resolve(raw)


def test_missing_and_too_short_text_files(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_text(tmp_path / "nope.txt")
    short = tmp_path / "short.txt"
    short.write_text("hello world", encoding="utf-8")
    raw = base_config()
    raw.update(data={"kind": "text_file", "path": str(short)}, model={"kind": "ngram"}, metrics={"names": []})
    with pytest.raises(ConfigError, match="too few for 2 training sequences"):
        resolve(raw)
