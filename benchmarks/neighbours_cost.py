"""What ``target_neighbours`` (0.9-0.15's default pools 5 neighbours found by the sentence encoder on long token
lists) costs as a corpus grows. (0.16 pools 20 there, found by the encoder and the targets side by side: a search over
384 + |V| dimensions whose memory is bounded per block, docs/scale.md; not timed here.)

    python -m benchmarks.neighbours_cost                 # -> results/neighbours_cost.md (one run, ~10 min on 2 cores)
    python -m benchmarks.neighbours_cost --sizes 2000 4000 --batches 20   # a quick look
    python -m benchmarks.neighbours_cost --device cuda    # the search on a GPU -> results/neighbours_cost_cuda.md

Two costs, each measured in one run on one thread (BLAS limited to one thread too; with ``--device cuda`` the search
runs on the GPU, as a fit on a GPU does, and without CUDA the script says so and writes nothing), as ratios:

1. The neighbour search (:func:`dsl_plugin.student.neighbour_index`, k=5, on random 384-d vectors, the width of the
   packaged MiniLM's embeddings): exact within one block, so quadratic up to ``NEIGHBOUR_BLOCK`` (50,000) documents,
   then linear in the number of blocks. Reported: seconds per size, and the ratios that show the two regimes.
2. The training targets: a batch of 64 pooled targets reads and softmaxes 64 x 6 rows instead of 64. Reported:
   seconds per 100 batches of ``DSL._target_rows`` with and without neighbours (in-memory logits, |V| = 2000), and
   the ratio; a streamed fit reads the (k + 1)x rows from the teacher cache.

The MiniLM encoding the neighbours need is the one ``input="embeddings"`` already pays on long token lists (measured
in the quality study's teacher cost), so it is not timed here.
"""

from __future__ import annotations

import argparse
import time

from . import results_dir, setup_environment

OUT = "neighbours_cost.md"
SIZES = (10_000, 25_000, 50_000, 100_000, 200_000)
DIM, VOCAB, BATCH = 384, 2000, 64


def _k() -> int:
    """The neighbours ``DSL()`` pools on long token lists when the sentence encoder finds them
    (``target_neighbours="auto"`` with ``neighbour_space="encoder"``: 0.9-0.15's default there)."""
    from dsl_plugin.model import LONG_TOKEN_LIST_NEIGHBOURS

    return LONG_TOKEN_LIST_NEIGHBOURS["encoder"]


def search_seconds(n: int, seed: int = 0, device: str | None = None) -> float:
    """Wall seconds of one :func:`neighbour_index` of ``n`` random normal vectors (on ``device``; None: the CPU)."""
    import numpy as np

    from dsl_plugin.student import neighbour_index

    x = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    t0 = time.perf_counter()
    neighbour_index(x, _k(), seed, device=device)  # returns host memory: the GPU's work is done when it returns
    return time.perf_counter() - t0


def target_seconds(n: int, batches: int, pooled: bool) -> float:
    """Wall seconds of ``batches`` batches of training targets as ``DSL()`` builds them (its temperature, corpus
    calibration, no bag of words), with or without the targets of the default's neighbours pooled in."""
    import numpy as np

    from dsl_plugin import DSL
    from dsl_plugin.student import corpus_logit_mean, neighbour_index, pooled_rows, soft_targets

    rng = np.random.default_rng(1)
    logits = rng.normal(0, 4, size=(n, VOCAB)).astype(np.float32)
    offset, tau = corpus_logit_mean(logits), DSL().temperature

    def own(rows):
        return soft_targets(logits[rows], tau, offset)
    rows_of = pooled_rows(own, neighbour_index(rng.normal(size=(n, DIM)).astype(np.float32), _k())) if pooled else own
    order = rng.permutation(n)
    t0 = time.perf_counter()
    for b in range(batches):
        rows_of(order[(b * BATCH) % n:][:BATCH])
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    from threadpoolctl import threadpool_limits

    from dsl_plugin.student import NEIGHBOUR_BLOCK

    from .machine import machine_info

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--target-docs", type=int, default=20_000)
    ap.add_argument("--device", default=None, help="'cuda': the neighbour search on the GPU (default: the CPU)")
    args = ap.parse_args(argv)
    if args.device is not None and args.device != "cpu":
        import torch

        if not torch.cuda.is_available():
            print(f"neighbours_cost: --device {args.device} needs CUDA, which this machine does not have; nothing "
                  "measured", flush=True)
            return
    started = time.strftime("%Y-%m-%d %H:%M")
    k = _k()
    with threadpool_limits(1):
        search_seconds(500, device=args.device)  # warm-up (imports, first BLAS call or CUDA kernel), not reported
        search = {n: search_seconds(n, device=args.device) for n in args.sizes}
        for n, s in search.items():
            print(f"neighbour search, {n} documents: {s:.1f} s", flush=True)
        plain = target_seconds(args.target_docs, args.batches, pooled=False)
        pooled = target_seconds(args.target_docs, args.batches, pooled=True)
    print(f"targets, {args.batches} batches: {plain:.2f} s own, {pooled:.2f} s pooled", flush=True)
    sizes = sorted(search)
    command = "python -m benchmarks.neighbours_cost" + ("" if args.sizes == list(SIZES) else
                                                        " --sizes " + " ".join(map(str, args.sizes)))
    command += "" if args.batches == 200 else f" --batches {args.batches}"
    command += "" if args.target_docs == 20_000 else f" --target-docs {args.target_docs}"
    command += "" if args.device is None else f" --device {args.device}"
    where = "one thread, BLAS too" if args.device in (None, "cpu") else f"the search on {gpu_name(args.device)}"
    lines = [f"# The cost of `target_neighbours` (k = {k}, 0.9's default on long token lists)", "",
             f"`{command}` ({started}; {machine_info()}; {where}; one run, seeds 0 and 1). See the module's "
             "docstring for what is measured.", "",
             f"## 1. Neighbour search ({DIM}-d vectors; exact within blocks of {NEIGHBOUR_BLOCK:,} documents)", "",
             "| documents | blocks | seconds | seconds per 1,000 documents |", "|---|---|---|---|"]
    for n in sizes:
        blocks = -(-n // NEIGHBOUR_BLOCK)
        lines.append(f"| {n:,} | {blocks} | {search[n]:.1f} | {1000 * search[n] / n:.3f} |")
    ratios = [f"{b:,} / {a:,} documents: {search[b] / search[a]:.2f}x time for {b / a:.1f}x documents"
              for a, b in zip(sizes, sizes[1:])]
    lines += ["", "Ratios (in theory quadratic up to one block, linear beyond): " + "; ".join(ratios) + ".", ""]
    if max(sizes) >= NEIGHBOUR_BLOCK:
        per_block = search[max(n for n in sizes if n <= NEIGHBOUR_BLOCK)] if NEIGHBOUR_BLOCK in sizes else None
        if per_block is not None:
            lines += [f"At {per_block:.1f} s per full block, 10^6 documents take ~{20 * per_block / 60:.1f} min and "
                      f"10^7 ~{200 * per_block / 3600:.1f} h ({where}; 20 and 200 blocks; blocks are independent, "
                      "and on the CPU BLAS uses every core given to it).", ""]
    lines += [f"## 2. Training targets ({args.target_docs:,} documents, |V| = {VOCAB:,}, batches of {BATCH})", "",
              "| targets | seconds per 100 batches |", "|---|---|",
              f"| own (0.8; `target_neighbours=0`) | {100 * plain / args.batches:.2f} |",
              f"| pooled with {k} neighbours' (0.9 on long token lists) | {100 * pooled / args.batches:.2f} |", "",
              f"Pooled / own: {pooled / plain:.1f}x per batch (each batch builds {k + 1}x the rows). In a fit held in "
              "memory every target is built once before training, so this is paid once per fit, not per epoch; a "
              "streamed fit (docs/scale.md) builds them per batch, every epoch.", ""]
    out = results_dir() / (OUT if args.device in (None, "cpu") else OUT.replace(".md", f"_{args.device}.md"))
    results_dir().mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


def gpu_name(device: str) -> str:
    """The GPU's name as torch reports it."""
    import torch

    return torch.cuda.get_device_name(torch.device(device))


if __name__ == "__main__":
    main()
