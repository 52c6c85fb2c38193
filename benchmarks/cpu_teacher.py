"""A faster CPU teacher (issue 12, deliverable 4): dynamic int8 quantisation of the default LM vs fp32.

    python -m benchmarks.teacher_pass --variant DSL-int8          # the int8 teacher caches of the three sets
    python -m benchmarks.run --models DSL-int8 --ks 25            # its DSL runs (K=25, seeds 0-2)
    python -m benchmarks.cpu_teacher [--docs 200]                 # -> a section of results/perf.md

Speed: the fp32 and the int8 teacher of ``BENCH_LM`` on the same ``--docs`` distinct documents of each data set of
the default protocol, back to back in this one process (1 thread, no cache, after a warm-up), process CPU time: the
ratio is measured in one run. Outputs: the mean absolute difference of the word log-probabilities (int8 - fp32).
Quality: purity and P@10 of the default protocol's ``DSL`` runs vs ``DSL-int8`` (K=25, seeds 0-2, ``runs.jsonl``),
with Welch's p. The 2-threads-vs-1 rates are perf.md's sections 2 and 2b (threads do not change what is computed).
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from pathlib import Path

from . import results_dir, setup_environment
from .perf import replace_section
from .run import DEFAULT_DATASETS, RUNS_FILE, load_runs, newest_runs
from .variants import BENCH_LM

TITLE = "9. int8 dynamic quantisation of the teacher vs fp32"
QUALITY_K = 25


def speed(datasets: list[str], n_docs: int, lm: str = BENCH_LM) -> list[dict]:
    """Per data set: CPU seconds per document of the fp32 and int8 teachers, and their output difference."""
    import numpy as np
    import torch

    from dsl_plugin.teacher import SoftLabelTeacher, TeacherConfig

    from .bench_data import prepare

    torch.set_num_threads(1)
    teachers = {q: SoftLabelTeacher(TeacherConfig(model=lm, quantize=q), use_cache=False, show_progress=False,
                                    device="cpu") for q in (None, "int8")}
    rows = []
    for ds in datasets:
        corpus, _ = prepare(ds)
        docs = list(dict.fromkeys(corpus.raw_texts))[:n_docs]
        row, outs = {"dataset": ds, "n_docs": len(docs)}, {}
        for q, teacher in teachers.items():
            teacher.compute(docs[:4], corpus.vocabulary)  # warm-up (load, prompt-prefix state)
            c0 = time.process_time()
            out = teacher.compute(docs, corpus.vocabulary)
            row[q or "fp32"] = (time.process_time() - c0) / len(docs)
            outs[q] = out.logits
        lp = {q: v - np.logaddexp.reduce(v, axis=1, keepdims=True) for q, v in outs.items()}
        row["mean_abs_diff"] = float(np.abs(lp["int8"] - lp[None]).mean())
        rows.append(row)
        print(f"{ds}: fp32 {row['fp32'] * 1000:.0f} ms/doc, int8 {row['int8'] * 1000:.0f} ms/doc, "
              f"mean |diff| {row['mean_abs_diff']:.3f}", flush=True)
    return rows


def quality(datasets: list[str]) -> list[tuple[str, list[float], list[float], list[float], list[float]]]:
    """Per data set: purity and P@10 of ``DSL`` and ``DSL-int8`` at K=25 (each a list over the seeds run)."""
    runs = newest_runs(load_runs(results_dir() / RUNS_FILE, current_only=True))

    def values(ds, model, metric):
        return [r["metrics"][metric] for r in runs if r["dataset"] == ds and r["model"] == model and r["k"] == QUALITY_K]
    return [(ds, values(ds, "DSL", "purity"), values(ds, "DSL-int8", "purity"), values(ds, "DSL", "p10"),
             values(ds, "DSL-int8", "p10")) for ds in datasets]


def section(rows: list[dict], qual: list, n_docs: int, lm: str = BENCH_LM) -> list[str]:
    from dsl_plugin.compare import mean_sd, welch_p

    from .machine import machine_info

    load = os.getloadavg()
    lines = [f"`python -m benchmarks.cpu_teacher --docs {n_docs}`, {datetime.datetime.now().isoformat(timespec='seconds')}"
             f", {machine_info()}; load average at start {load[0]:.1f} (1 min). `{lm}`, the "
             f"first {n_docs} distinct documents of each set, fp32 and `quantize=\"int8\"` (dynamic int8 Linear layers) "
             "back to back in one process, 1 thread, no cache, process CPU time.", "",
             "| data | fp32 ms/doc | int8 ms/doc | speed-up | mean abs diff of word log-probs |",
             "| --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['fp32'] * 1000:.0f} | {r['int8'] * 1000:.0f} | "
                     f"{r['fp32'] / r['int8']:.2f}x | {r['mean_abs_diff']:.3f} |")
    lines += ["", f"Quality: the default protocol's `DSL` runs vs `DSL-int8` (same settings, int8 teacher), K={QUALITY_K}, "
              "`runs.jsonl`; Welch's p.", "",
              "| data | purity fp32 | purity int8 | p | P@10 fp32 | P@10 int8 | p |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for ds, pf, pi, tf, ti in qual:
        if len(pi) < 2 or len(pf) < 2:
            lines.append(f"| {ds} | {mean_sd(pf) if pf else '–'} | {len(pi)} int8 run(s): not enough | – | | | |")
            continue
        lines.append(f"| {ds} | {mean_sd(pf)} | {mean_sd(pi)} | {welch_p(pi, pf):.3f} | {mean_sd(tf)} | {mean_sd(ti)} | "
                     f"{welch_p(ti, tf):.3f} |")
    compared = [q for q in qual if len(q[1]) >= 2 and len(q[2]) >= 2]
    lower = [q[0] for q in compared if sum(q[2]) / len(q[2]) < sum(q[1]) / len(q[1]) and welch_p(q[2], q[1]) < .05]
    if compared:
        verdict = (f"int8 purity is significantly lower (p < .05) on {len(lower)} of {len(compared)} sets "
                   f"({', '.join(lower)}): it does not hold within noise, so fp32 stays the CPU default and int8 stays "
                   "opt-in." if lower else
                   f"int8 purity is not significantly lower on any of the {len(compared)} sets: a candidate for the CPU "
                   "default.")
        lines += ["", f"**Verdict.** {verdict} (torch 2.13 also warns that the quantised tensor functions behind "
                  "`quantize_dynamic` are deprecated.)"]
    return lines


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200, help="distinct documents per data set for the timing")
    ap.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS)
    ap.add_argument("--lm", default=BENCH_LM, help="the LM timed (the quality rows are the benchmark's, on BENCH_LM)")
    ap.add_argument("--out", default=None, help="default: results/perf.md")
    args = ap.parse_args(argv)
    lines = section(speed(args.datasets, args.docs, args.lm), quality(args.datasets), args.docs, args.lm)
    out = Path(args.out or results_dir() / "perf.md")
    replace_section(out, TITLE, lines)
    print(f"\n## {TITLE}\n" + "\n".join(lines) + f"\n\nwritten to {out}")


if __name__ == "__main__":
    main()
