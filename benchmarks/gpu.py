"""The teacher on a GPU (issue 12): throughput per LM and agreement with the fp32 CPU teacher.

    python -m benchmarks.gpu [--hf-model /path/to/local/hf-model ...] [--lm smollm2-135m --lm gemma3-270m]

(or ``make gpu HF_MODEL=/path/to/local/hf-model``, which installs first). Offline: the packaged LMs and
local model directories only (``HF_HUB_OFFLINE=1``). For each LM it

1. runs the fp32 CPU teacher (all cores) on the first ``--n-diff`` (256) documents: the reference;
2. on the GPU, for the dtype ``TeacherConfig.for_device("cuda")`` picks (bf16 on Ampere and later,
   else fp16) and for fp32: loads the LM (SDPA attention; batches sized from the free GPU memory),
   times a cache-less pass over ``--n-speed`` documents (best of ``--repeats``, after a warm-up) and
   compares its outputs on the reference documents: max |diff| of the restricted logits and of the
   hidden states, and for the soft labels softmax(logits / 3) the mean total-variation distance and
   the top-1 word agreement.

Prints a Markdown table and writes ``benchmarks/results/gpu.md``. Without CUDA it prints why it
skips and exits 0 without writing anything. Documents: StackOverflow titles when the shared data is
there, else the demo corpus shipped with the package (``--data``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
from pathlib import Path

from . import results_dir, setup_environment
from .machine import cpu_name

TAU = 3.0


def load_documents(name: str, n: int) -> tuple[str, list[str]]:
    from dsl_plugin.data import load_demo_corpus

    from .bench_data import load_texts

    if name in ("auto", "stackoverflow"):
        try:
            texts, _ = load_texts("stackoverflow", sample=n, sample_seed=1)
            return f"StackOverflow titles (seeded sample of {len(texts)})", texts
        except FileNotFoundError:
            if name == "stackoverflow":
                raise
    if name == "20newsgroups":
        texts, _ = load_texts("20newsgroups", sample=n, sample_seed=1)
        return f"20 Newsgroups (seeded sample of {len(texts)})", texts
    texts, _ = load_demo_corpus()
    return f"packaged demo corpus ({len(texts)} documents)", texts[:n]


def soft_label_agreement(a, b) -> tuple[float, float]:
    """Mean total-variation distance and top-1 agreement of softmax(logits / tau)."""
    from dsl_plugin.teacher import softmax_with_temperature

    pa, pb = softmax_with_temperature(a, TAU), softmax_with_temperature(b, TAU)
    tv = 0.5 * abs(pa - pb).sum(axis=1).mean()
    return float(tv), float((pa.argmax(1) == pb.argmax(1)).mean())


def measure(lm: str, dtype: str, device: str, docs, diff_docs, vocab, reference, repeats: int, max_doc_tokens: int):
    import torch

    from dsl_plugin.teacher import SoftLabelTeacher, TeacherConfig

    cuda = device.startswith("cuda")
    config = TeacherConfig(model=lm, dtype=dtype, max_doc_tokens=max_doc_tokens)
    teacher = SoftLabelTeacher(config, device=device, use_cache=False, show_progress=False)
    t0 = time.perf_counter()
    teacher.load()
    load_s = time.perf_counter() - t0
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    teacher.compute(docs[:32], vocab)  # warm-up (kernels, prefix state)
    best = float("inf")
    for _ in range(repeats):
        teacher.reset_counters()
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        teacher.compute(docs, vocab)
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    passes = teacher.n_forward_passes
    out = teacher.compute(diff_docs, vocab)
    tv, top1 = soft_label_agreement(out.logits, reference.logits)
    row = {"lm": lm, "dtype": dtype, "load_s": load_s, "docs_per_s": len(docs) / best,
           "budget": teacher.runner.batch_limits(), "passes": passes,
           "max_dlogits": float(abs(out.logits - reference.logits).max()),
           "max_dhidden": float(abs(out.hidden - reference.hidden).max()),
           "hidden_scale": float(abs(reference.hidden).max()), "tv": tv, "top1": top1,
           "peak_gb": torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")}
    del teacher
    if cuda:
        torch.cuda.empty_cache()
    return row


def main(argv: list[str] | None = None) -> int:
    setup_environment()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lm", action="append", default=None, help="packaged LMs (default: smollm2-135m, gemma3-270m)")
    ap.add_argument("--hf-model", action="append", default=[], help="a local Hugging Face model directory")
    ap.add_argument("--data", choices=["auto", "stackoverflow", "20newsgroups", "demo"], default="auto")
    ap.add_argument("--n-diff", type=int, default=256, help="documents compared with the fp32 CPU teacher")
    ap.add_argument("--n-speed", type=int, default=4096, help="documents in each timed pass")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-doc-tokens", type=int, default=128)
    ap.add_argument("--cpu-threads", type=int, default=None, help="threads of the CPU reference (default: all cores)")
    ap.add_argument("--out", default=None, help="default: results/gpu.md")
    ap.add_argument("--device", default="cuda", help=argparse.SUPPRESS)  # 'cpu': dry run of this script (fp32)
    args = ap.parse_args(argv)
    args.out = args.out or str(results_dir() / "gpu.md")

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"SKIP: no CUDA device (torch {torch.__version__}, built with CUDA {torch.version.cuda}); "
              f"nothing was measured and {args.out} was not written. Run this on a GPU machine.")
        return 0
    from dsl_plugin.data import prepare_corpus
    from dsl_plugin.teacher import SoftLabelTeacher, TeacherConfig, dtype_for_device

    lms = (args.lm or ["smollm2-135m", "gemma3-270m"]) + args.hf_model
    data_name, docs = load_documents(args.data, max(args.n_speed, args.n_diff))
    diff_docs = docs[:args.n_diff]
    vocab = prepare_corpus(docs, vocabulary_size=2000).vocabulary
    half = dtype_for_device(args.device)
    dtypes = [half, "float32"] if half != "float32" else ["float32"]
    cores = args.cpu_threads or os.cpu_count() or 1
    torch.set_num_threads(cores)
    rows, skipped = [], []
    for lm in lms:
        try:
            ref_teacher = SoftLabelTeacher(TeacherConfig(model=lm, max_doc_tokens=args.max_doc_tokens), device="cpu",
                                           num_threads=cores, use_cache=False, show_progress=False)
            t0 = time.perf_counter()
            reference = ref_teacher.compute(diff_docs, vocab)
            cpu_rate = len(diff_docs) / (time.perf_counter() - t0)
            del ref_teacher
        except Exception as exc:  # not installed / not loadable offline
            skipped.append(f"{lm}: {type(exc).__name__}: {exc}")
            print(f"skipped {lm}: {exc}", flush=True)
            continue
        for dtype in dtypes:
            row = measure(lm, dtype, args.device, docs, diff_docs, vocab, reference, args.repeats,
                          args.max_doc_tokens)
            row["cpu_docs_per_s"] = cpu_rate
            rows.append(row)
            print(row, flush=True)

    if args.device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        gpu = (f"{props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability {props.major}.{props.minor}; "
               f"torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        gpu = f"dry run on {args.device} (no GPU): torch {torch.__version__}"
    import transformers

    lines = ["# The teacher on a GPU (issue 12)", "",
             f"- command: `{shlex.join(['python', '-m', 'benchmarks.gpu', *(sys.argv[1:] if argv is None else argv)])}`",
             f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
             f"- device: {gpu}; transformers {transformers.__version__}; Python {platform.python_version()}",
             f"- CPU reference: fp32, {cores} threads ({cpu_name()})",
             f"- documents: {data_name}; timed passes over {len(docs)} documents (no cache, best of {args.repeats} "
             f"after a warm-up), agreement on the first {len(diff_docs)}; |V| = {len(vocab)}; "
             f"max_doc_tokens = {args.max_doc_tokens}; soft labels at tau = {TAU:g}", "",
             "| LM | dtype | docs/s | CPU fp32 docs/s | batch budget (tokens, docs) | forward passes | peak GPU GiB | "
             "max abs diff logits | max abs diff hidden (max abs hidden) | soft-label TV | top-1 agreement | load s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['lm']} | {r['dtype']} | {r['docs_per_s']:.1f} | {r['cpu_docs_per_s']:.1f} | "
                     f"{r['budget'][0]}, {r['budget'][1]} | {r['passes']} | {r['peak_gb']:.2f} | "
                     f"{r['max_dlogits']:.2e} | {r['max_dhidden']:.2e} ({r['hidden_scale']:.1f}) | {r['tv']:.4f} | "
                     f"{100 * r['top1']:.1f}% | {r['load_s']:.0f} |")
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped)]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
