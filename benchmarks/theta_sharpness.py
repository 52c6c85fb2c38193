"""How sharp each model's document-topic proportions are, and what that does to KL-retrieval P@10 (issue 14).

    python -m benchmarks.theta_sharpness            # -> results/theta_sharpness.md (resumable, one line per fit)

A diagnostic, not a lever: no default is chosen from it. For ``DSL()`` and FASTopic at K=50, seeds 0-2, it records
the mean largest topic share per document ("mean max"), purity and P@10, and on the ``20newsgroups-tokens`` choosing
copy also P@10 of each model's theta tempered after the fit, ``softmax(log(theta) / T)`` (for DSL the softmax of the
posterior mean / T; argmax, so purity, unchanged), for ``DSL()``, FASTopic and CombinedTM: whether a flatter (T > 1)
or sharper (T < 1) theta ranks neighbours better is a property of each model, not of the metric alone. BBC News (the
missed acceptance cell) gets the sharpness of DSL and FASTopic, not the sweep, so that no later rule is chosen on it.
"""

from __future__ import annotations

import argparse
import time

from . import results_dir, setup_environment

OUT = "theta_sharpness"  # .jsonl (one line per fit) and .md in results_dir()
SWEEP_SET, DESCRIBE_SETS = "20newsgroups-tokens", ("bbc_news",)
TEMPERATURES = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
SWEEP_MODELS = ("DSL", "FASTopic", "CombinedTM")  # on SWEEP_SET; DESCRIBE_SETS get DSL and FASTopic
FIRST_VERSION = "0.7.0"  # the package version this diagnostic came with (its first records name none)
K, SEEDS = 50, (0, 1, 2)


def tempered(theta, temperature: float):
    """``softmax(log(theta) / temperature)`` row by row (theta > 0: a softmax's output)."""
    import numpy as np
    from scipy.special import softmax

    return softmax(np.log(np.clip(theta, 1e-30, None)) / temperature, axis=1)


def measure(dataset_name: str, model: str, seed: int) -> dict:
    """One fit of ``model`` ("DSL" = ``DSL()``, or a baseline) on the data set: sharpness, purity and P@10 (and on
    the sweep set, P@10 per temperature)."""
    import numpy as np
    import torch

    from dsl_plugin.baselines import run_baseline
    from dsl_plugin.metrics import labels_from_dataset, purity, retrieval_precision_at_k

    from .run import TOP_WORDS, fit_dsl, octis_dataset, threads, work_dir

    torch.set_num_threads(threads())
    dataset = octis_dataset(dataset_name)
    work = work_dir() / dataset_name
    extra = {}
    if model == "DSL":
        from dsl_plugin import __version__

        output, dsl = fit_dsl(dataset, {}, K, seed, work)
        extra = {"dsl_version": __version__, "resolved": dsl.resolved_}  # DSL() means another model in another version
    else:
        output = run_baseline(model, dataset, num_topics=K, seed=seed, work_dir=str(work), top_words=TOP_WORDS)
    theta = np.asarray(output["topic-document-matrix"], dtype=np.float64).T
    labels = labels_from_dataset(dataset, "all")
    record = {"dataset": dataset_name, "model": model, "k": K, "seed": seed,
              "mean_max": float(theta.max(1).mean()), "purity": float(purity(theta, labels)),
              "p10": float(retrieval_precision_at_k(theta, labels, ks=(10,))[10]), **extra}
    if dataset_name == SWEEP_SET:
        record["p10_tempered"] = {str(t): float(retrieval_precision_at_k(tempered(theta, t), labels, ks=(10,))[10])
                                  for t in TEMPERATURES}
    return record


def report(records: list[dict]) -> str:
    import numpy as np

    versions = sorted({r.get("dsl_version", FIRST_VERSION) for r in records if r["model"] == "DSL"})
    lines = ["# Theta sharpness and KL-retrieval P@10 (issue 14 diagnostic)", "",
             f"Command: `python -m benchmarks.theta_sharpness` (K={K}, seeds {', '.join(map(str, SEEDS))}; machine "
             "and date per line of `theta_sharpness.jsonl`). Mean max = the mean over documents of the largest topic "
             f"share (1/K = {1 / K:.3f} is uniform). `DSL` is `DSL()` of dsl-plugin {', '.join(versions)}. No "
             "default was chosen from this table.", "",
             "| data set | model | mean max | purity | P@10 | n |", "|---|---|---|---|---|---|"]
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((r["dataset"], r["model"]), []).append(r)
    for (ds, model), rs in sorted(groups.items()):
        lines.append(f"| {ds} | {model} | {np.mean([r['mean_max'] for r in rs]):.3f} | "
                     f"{np.mean([r['purity'] for r in rs]):.3f} | {np.mean([r['p10'] for r in rs]):.3f} | {len(rs)} |")
    swept = [(m, groups.get((SWEEP_SET, m), [])) for m in SWEEP_MODELS]  # main() keeps fully swept records only
    if any(rs for _, rs in swept):
        lines += ["", f"P@10 on `{SWEEP_SET}` of each model's theta tempered after the fit, softmax(log theta / T) "
                  "(purity does not change; T=1 is the model as it is):", "",
                  "| model | n | " + " | ".join(f"T={t}" for t in TEMPERATURES) + " |",
                  "|---|---|" + "---|" * len(TEMPERATURES)]
        for m, rs in swept:
            if rs:
                lines.append(f"| {m} | {len(rs)} | " + " | ".join(
                    f"{np.mean([r['p10_tempered'][str(t)] for r in rs]):.3f}" for t in TEMPERATURES) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    from dsl_plugin.compare import append_run, load_runs

    from .machine import machine_info

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    path = results_dir() / f"{OUT}.jsonl"
    done = load_runs(path)  # resumable: a torn last line is ignored and its fit redone
    from dsl_plugin import __version__

    done = [r for r in done if r["model"] != "DSL" or r.get("dsl_version", FIRST_VERSION) == __version__]
    # a sweep-set fit recorded before its model was swept (FASTopic before 0.8) or before a temperature was added
    done = [r for r in done if r["dataset"] != SWEEP_SET
            or set(r.get("p10_tempered", {})) == {str(t) for t in TEMPERATURES}]
    cells = {(r["dataset"], r["model"], r["seed"]) for r in done}
    for ds in (SWEEP_SET, *DESCRIBE_SETS):
        for model in (SWEEP_MODELS if ds == SWEEP_SET else ("DSL", "FASTopic")):
            for seed in SEEDS:
                if (ds, model, seed) in cells:
                    continue
                record = {**measure(ds, model, seed), "machine": machine_info(),
                          "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
                append_run(record, path)
                done.append(record)
                print(f"{ds} {model} seed={seed}: mean max {record['mean_max']:.3f} P@10 {record['p10']:.3f}",
                      flush=True)
    (results_dir() / f"{OUT}.md").write_text(report(done))


if __name__ == "__main__":
    main()
