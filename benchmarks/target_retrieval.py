"""How well DSL's training targets themselves retrieve same-label documents, next to the student (issue 14 diagnostic).

    python -m benchmarks.target_retrieval     # -> results/target_retrieval.md (one line per data set in .jsonl)

A diagnostic, not a lever: no default is chosen from it. For each data set it measures label precision at 10
(``P@10``) of four document representations that ``DSL()`` builds before its student trains, with its settings as
they resolve on that data set (:meth:`DSL.resolved_for`):

* ``MiniLM kNN``: cosine neighbours of the packaged MiniLM embeddings (the student's input on long token lists, and
  the space ``target_neighbours`` pools in);
* ``soft labels``: KL retrieval over the LM's soft labels alone (the variant's calibration and temperature);
* ``own target``: the same over each document's own target (the soft labels blended with its bag of words,
  ``bow_weight`` as resolved);
* ``pooled target``: the same over the targets the student trains on (own target pooled with its neighbours',
  ``target_neighbours`` / ``neighbour_weight`` / ``neighbour_space`` as resolved: found by MiniLM, or since 0.16 on
  long token lists by MiniLM and the targets side by side);
* ``target kNN``: cosine neighbours of the own targets' square roots, centred (Hellinger geometry): whether the
  teacher's view finds better neighbours than the encoder's.

The report sets them beside the student's P@10 in the default protocol (``DSL`` rows of ``runs.jsonl``, K=50 and the
mean over K 25 and 50): where the student's theta retrieves about as well as its pooled target, training-side levers
cannot lift P@10 past the target, and a better target (teacher, prompt, blend) is the way. Everything here is
deterministic (no seed; the neighbour search is exact below 50,000 documents).
"""

from __future__ import annotations

import argparse
import time

from . import results_dir, setup_environment

OUT = "target_retrieval"  # .jsonl (one line per data set) and .md in results_dir()
DATASETS = ("20newsgroups-tokens", "bbc_news")  # the long token-list choosing copy and the missed acceptance cell
K_NEIGHBOURS = 10


def measure(dataset_name: str, variant: str = "DSL") -> dict:
    """The P@10 of each representation on one data set (see the module docstring), built as the DSL variant
    ``variant`` of the benchmarks (default ``DSL()``) builds them."""
    import numpy as np

    from dsl_plugin import DSL, __version__
    from dsl_plugin.data import bag_of_words
    from dsl_plugin.metrics import retrieval_precision_at_k
    from dsl_plugin.student import (corpus_logit_mean, neighbour_block, neighbour_index, neighbour_vectors, pooled_rows,
                                    soft_targets, target_geometry)
    from dsl_plugin.teacher import SoftLabelTeacher

    from .neighbour_agreement import label_agreement
    from .run import bench_corpus, dsl_kwargs, resolved_settings, teacher_configs, work_dir
    from .variants import embedding_model

    corpus = bench_corpus(dataset_name)
    labels = np.asarray(corpus.labels)
    resolved = resolved_settings(variant, dataset_name)
    (config,) = teacher_configs(variant, dataset_name)
    logits = SoftLabelTeacher(config).compute(corpus.raw_texts, corpus.vocabulary).read(
        "logits", np.arange(len(corpus.raw_texts)))
    dsl = DSL(**dsl_kwargs(variant))
    if dsl.calibration not in ("corpus", None):  # (contextual calibration needs a pass of its own: not read here)
        raise ValueError(f"target_retrieval reads corpus calibration or none, not {dsl.calibration!r} ({variant})")
    offset, tau = corpus_logit_mean(logits) if dsl.calibration == "corpus" else None, dsl.temperature
    bow = bag_of_words(corpus.tokens, corpus.vocabulary)
    soft = soft_targets(logits, tau, offset)
    own = soft_targets(logits, tau, offset, bow, resolved["bow_weight"])
    embeddings = embedding_model(variant, cache_dir=work_dir() / dataset_name / "embeddings").encode(corpus.raw_texts)
    pooled, own_rows, n = own, own.__getitem__, len(own)
    if resolved["target_neighbours"]:  # found where the variant finds them (neighbour_space, resolved: 0.16 on)
        space = resolved.get("neighbour_space", "encoder")
        index = neighbour_index(neighbour_vectors(space, np.asarray(embeddings, dtype=np.float32), own_rows, n),
                                resolved["target_neighbours"], block=neighbour_block(space, own.shape[1]), n=n)
        pooled = pooled_rows(own_rows, index, resolved["neighbour_weight"])(np.arange(n))

    def kl_p10(rows) -> float:
        return float(retrieval_precision_at_k(rows, labels, ks=(K_NEIGHBOURS,))[K_NEIGHBOURS])

    return {"dataset": dataset_name, "variant": variant, "dsl_version": __version__, "resolved": resolved,
            "teacher": config.as_dict(), "n_docs": len(labels),
            "p10": {"minilm_knn": label_agreement(embeddings, labels, K_NEIGHBOURS), "soft_labels": kl_p10(soft),
                    "own_target": kl_p10(own), "pooled_target": kl_p10(pooled),
                    "target_knn": label_agreement(target_geometry(own_rows, n), labels, K_NEIGHBOURS)}}


COLUMNS = (("minilm_knn", "MiniLM kNN"), ("soft_labels", "soft labels"), ("own_target", "own target"),
           ("pooled_target", "pooled target"), ("target_knn", "target kNN"))


def _student_p10(dataset_name: str, variant: str) -> tuple[str, str]:
    """The variant's P@10 in the default protocol (``runs.jsonl``) or the quality study (``quality_study.jsonl``)
    on the data set: at K=50, and the mean over K 25 and 50."""
    import numpy as np

    from .run import load_runs, newest_runs

    both = [r for path in (None, results_dir() / "quality_study.jsonl") for r in load_runs(path)]
    runs = [r for r in newest_runs(both) if r["dataset"] == dataset_name and r["model"] == variant]  # a cell once
    at50 = [r["metrics"]["p10"] for r in runs if r["k"] == 50]
    both = [r["metrics"]["p10"] for r in runs if r["k"] in (25, 50)]
    return tuple(f"{np.mean(v):.3f} (n={len(v)})" if v else "–" for v in (at50, both))


def report(records: list[dict]) -> str:
    lines = ["# What DSL's targets retrieve, next to the student (issue 14 diagnostic)", "",
             "Command: `python -m benchmarks.target_retrieval` (deterministic; machine and date per line of "
             "`target_retrieval.jsonl`). Label precision at 10 of each representation a DSL variant (`DSL`: "
             "`DSL()`) builds before its student trains, with the settings it resolves on the data set (see the "
             "module docstring); the student columns are that variant's P@10 in the default protocol (`runs.jsonl`) "
             "or the quality study (`quality_study.jsonl`), newest run per cell, of the version running the report. "
             "No default was chosen from this table.", "",
             "| data set | variant | dsl-plugin | " + " | ".join(name for _, name in COLUMNS)
             + " | student, K=50 | student, K 25 and 50 |",
             "|---|---|---|" + "---|" * (len(COLUMNS) + 2)]
    for r in records:
        at50, both = _student_p10(r["dataset"], r["variant"])
        lines.append(f"| {r['dataset']} | {r['variant']} | {r['dsl_version']} | "
                     + " | ".join(f"{r['p10'][key]:.3f}" for key, _ in COLUMNS) + f" | {at50} | {both} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    from dsl_plugin import __version__
    from dsl_plugin.compare import append_run, load_runs

    from .machine import machine_info

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--variant", default="DSL", help="a DSL variant of the benchmarks (default: DSL())")
    args = ap.parse_args(argv)
    path = results_dir() / f"{OUT}.jsonl"
    records = load_runs(path)  # every version's (the table names it): a new version adds its own lines
    for name in args.datasets:
        if any((r["dataset"], r["variant"], r["dsl_version"]) == (name, args.variant, __version__) for r in records):
            continue
        record = {**measure(name, args.variant), "machine": machine_info(),
                  "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        append_run(record, path)
        records.append(record)
        print(name, record["p10"], flush=True)
    (results_dir() / f"{OUT}.md").write_text(report(records))


if __name__ == "__main__":
    main()
