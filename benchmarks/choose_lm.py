"""Pick the default LM by measurement: DSL with each packaged candidate LM, K=20, 3 seeds.

    python -m benchmarks.teacher_pass --lm gemma3-270m --lm smollm2-135m --datasets stackoverflow 20newsgroups
    python -m benchmarks.choose_lm            # -> benchmarks/results/lm_choice.md

Teacher throughput comes from ``results/teacher_runs.jsonl`` (written by teacher_pass.py: documents the LM
computed / wall seconds of those passes, on whatever else the machine was doing then; perf.py has the
clean single-process numbers).
"""

from __future__ import annotations

import argparse
import json

from dsl_plugin.compare import mean_sd

from . import results_dir, setup_environment
from .bench_data import DATASETS as BENCH_DATASETS
from .machine import machine_info
from .run import BENCH_LM, load_runs, run_grid
from .variants import DSL_VARIANTS

LM_FILE = "lm_choice.jsonl"  # in results_dir()
DATASETS = ["stackoverflow", "20newsgroups"]
K = 20


def report(candidates: list[str], datasets: list[str] = DATASETS, k: int = K) -> None:
    import numpy as np

    results = results_dir()
    runs = [r for r in load_runs(results / LM_FILE) if "metrics" in r and r["k"] == k]
    trf = results / "teacher_runs.jsonl"
    teacher = [json.loads(x) for x in trf.read_text().splitlines()] if trf.exists() else []
    lines = ["# Choosing the default LM", "", f"Machine: {machine_info()}", "",
             f"DSL defaults (tau 3, lambda 1e3, 100 epochs, max_doc_tokens 128), K={k}, seeds 0-2. "
             "Mean ± std over seeds. Teacher docs/s: LM-computed documents / wall time of the teacher passes "
             "(latest pass per LM and dataset, `results/teacher_runs.jsonl`; the box was shared with other jobs while "
             "it ran; see perf.md for clean rates).", "",
             "| LM | dataset | runs | purity | P@10 | C_V | teacher docs/s | DSL fit s |", "|---|---|---|---|---|---|---|---|"]
    for m in candidates:
        lm = DSL_VARIANTS[m].get("language_model", BENCH_LM)
        for ds in datasets:
            rs = [r for r in runs if r["model"] == m and r["dataset"] == ds]
            tr = [t for t in teacher if t["lm"] == lm and t["dataset"] == ds and t["computed"]][-1:]  # latest pass
            rate = sum(t["computed"] for t in tr) / max(1e-9, sum(t["seconds"] for t in tr)) if tr else float("nan")
            if not rs:
                lines.append(f"| {lm} | {ds} | 0 | – | – | – | {rate:.2f} | – |")
                continue
            def ms(key):
                return mean_sd([r["metrics"][key] for r in rs])
            lines.append(f"| {lm} | {ds} | {len(rs)} | {ms('purity')} | {ms('p10')} | {ms('c_v')} | {rate:.2f} | "
                         f"{np.mean([r['fit_seconds'] for r in rs]):.0f} |")
    lines += ["", "Mean purity over the datasets (the choice criterion; equal weight per dataset):", ""]
    for m in candidates:
        per_ds = [np.mean([r["metrics"]["purity"] for r in runs if r["model"] == m and r["dataset"] == ds])
                  for ds in datasets if any(r["model"] == m and r["dataset"] == ds for r in runs)]
        lm = DSL_VARIANTS[m].get("language_model", BENCH_LM)
        lines.append(f"- {lm}: {np.mean(per_ds):.3f} over {len(per_ds)} dataset(s)" if per_ds else f"- {lm}: no runs")
    (results / "lm_choice.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["DSL", "DSL-smollm2"], choices=sorted(DSL_VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--datasets", nargs="+", default=DATASETS, choices=sorted(BENCH_DATASETS))
    ap.add_argument("--k", type=int, default=K, help=f"number of topics (default {K})")
    ap.add_argument("--compute-teacher", action="store_true")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)
    if not args.report_only:
        grid = [(ds, m, args.k, s) for s in args.seeds for ds in args.datasets for m in args.models]
        run_grid(grid, results_dir() / LM_FILE, compute_teacher=args.compute_teacher,
                 after_each=lambda: report(args.models, args.datasets, args.k))
    report(args.models, args.datasets, args.k)


if __name__ == "__main__":
    main()
