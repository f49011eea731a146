"""Tokens per second of the ``hf_causal_lm`` loop against a plain ``transformers`` loop, side by side.

Workload: a GPT-2 of about 1 M parameters (4 layers, width 128, context 128, byte-level BPE of
2,000 tokens) on the default corpus (stdlib docstrings, 256-byte documents). Training: the
loop's ``fit`` versus a hand-written AdamW loop over the same token sequences, the same batches
and the same number of steps; generation: the loop's ``sample`` (batched, from BOS, decoded to
rows) versus ``model.generate`` on the same network with the same settings. Both paths use the
same thread count (one); each is timed ``--repeats`` times alternately and the medians are
compared. Time is the CPU time of this process (``time.process_time``): with one torch thread it
is the work done, and unlike wall time it does not depend on other load on a shared machine.
Tokens are the non-pad tokens trained on, and the tokens generated (up to EOS).

Last line: ``overhead train <x> %, generate <y> %`` (the loop's extra time over the plain loop).
``--quick`` shrinks the workload for a smoke run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from autophagy.models import hf_train
from autophagy.running.config import resolve


def setup(quick: bool):
    raw = {
        "replicates": 1,
        "generations": 1,
        "data": {"kind": "documents", "max_bytes": 256},
        "model": {
            "kind": "hf_causal_lm",
            "architecture": "gpt2",
            "layers": 2 if quick else 4,
            "width": 64 if quick else 128,
            "heads": 4,
            "context": 128,
            "seq_length": 128,
            "vocab_size": 2000,
            "steps": 10 if quick else 60,
            "batch_size": 16,
            "lr": 1e-3,
            "max_new_tokens": 127,
            "generate_batch_size": 64,
            "device": "cpu",
        },
        "loop": {"family": "fully_synthetic", "n_ini": 256, "n_synthetic": 256},
        "metrics": {"names": []},
    }
    exp = resolve(raw)[0]
    rows = exp.data.draw(256, rng=np.random.default_rng(0))[None]
    return exp.model, rows


def loop_train(settings, rows) -> float:
    start = time.process_time()
    settings.fit(rows, rng=[np.random.default_rng(1)])
    return time.process_time() - start


def plain_train(settings, rows) -> float:
    """The reference: the same batches through a minimal transformers training loop."""
    o = settings.options
    start = time.process_time()
    sequences = settings.sequences(rows[0])
    seed = int(np.random.default_rng(1).integers(2**62))
    torch.set_num_threads(o.cpu_threads)
    model = hf_train.new_model(settings.config(), seed, torch.device("cpu"))
    optimizer = torch.optim.AdamW(model.parameters(), lr=o.lr)
    model.train()
    for index in hf_train.batch_order(len(sequences), o.batch_size, o.steps, o.epochs, seed):
        ids, mask, labels = hf_train.pad_batch([sequences[i] for i in index], settings.tokenizer.pad_token_id)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.process_time() - start


def trained_tokens(settings, rows) -> int:
    o = settings.options
    sequences = settings.sequences(rows[0])
    seed = int(np.random.default_rng(1).integers(2**62))
    batches = hf_train.batch_order(len(sequences), o.batch_size, o.steps, o.epochs, seed)
    return sum(len(sequences[i]) for index in batches for i in index)


def loop_generate(fitted, n: int) -> tuple[float, int]:
    start = time.process_time()
    fitted.sample(n, rng=[np.random.default_rng(2)], sampling_bias=1.0)
    seconds = time.process_time() - start
    texts = fitted.generate(n, rng=[np.random.default_rng(2)], sampling_bias=1.0)[0]  # the same texts
    return seconds, count_tokens(fitted.settings.tokenizer, texts)


def count_tokens(tokenizer, texts: list[str]) -> int:
    """Tokens of generated texts, counted the same way for both paths (re-tokenized)."""
    return sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])


def plain_generate(fitted, n: int) -> tuple[float, int]:
    s, o = fitted.settings, fitted.settings.options
    net, tok = s.network(fitted.blobs[0]), s.tokenizer
    torch.set_num_threads(o.cpu_threads)
    start = time.process_time()
    torch.manual_seed(2)
    texts = []
    with torch.no_grad():
        for begin in range(0, n, o.generate_batch_size):
            size = min(o.generate_batch_size, n - begin)
            prompt = torch.full((size, 1), tok.bos_token_id, dtype=torch.long)
            ids = net.generate(
                prompt,
                attention_mask=torch.ones_like(prompt),
                do_sample=True,
                top_k=0,
                top_p=1.0,
                max_new_tokens=o.max_new_tokens,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
            )
            texts += tok.batch_decode(ids[:, 1:], skip_special_tokens=True)
    return time.process_time() - start, count_tokens(tok, texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings, rows = setup(args.quick)
    tokens = trained_tokens(settings, rows)
    n = 64 if args.quick else 128
    loop_train(settings, rows)  # warm-up: imports, first allocations
    train = {"loop": [], "plain": []}
    gen = {"loop": [], "plain": []}
    fitted = settings.fit(rows, rng=[np.random.default_rng(1)])
    for _ in range(args.repeats):
        train["loop"].append(tokens / loop_train(settings, rows))
        train["plain"].append(tokens / plain_train(settings, rows))
        seconds, count = loop_generate(fitted, n)
        gen["loop"].append(count / seconds)
        seconds, count = plain_generate(fitted, n)
        gen["plain"].append(count / seconds)
    params = sum(p.numel() for p in settings.network(fitted.blobs[0]).parameters())
    print(f"GPT-2 {params / 1e6:.2f} M parameters, {tokens} training tokens, {n} generated documents")
    medians = {}
    for what, table in (("train", train), ("generate", gen)):
        for path in ("loop", "plain"):
            medians[what, path] = statistics.median(table[path])
            print(
                f"{what:8s} {path:5s} {medians[what, path]:8.0f} tokens/s  (runs: "
                + ", ".join(f"{v:.0f}" for v in table[path])
                + ")"
            )
    overhead = {w: 100 * (medians[w, "plain"] / medians[w, "loop"] - 1) for w in ("train", "generate")}
    print(f"overhead train {overhead['train']:.1f} %, generate {overhead['generate']:.1f} %")


if __name__ == "__main__":
    main()
