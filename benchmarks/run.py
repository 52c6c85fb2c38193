"""Side-by-side benchmark of DSL against the baselines (paper Tables 1-3), resumable.

    python -m benchmarks.run                      # default protocol: 4,000-doc samples, K {25,50}, 3 seeds (measured: 7.4 h single-core, 2 jobs)
    python -m benchmarks.run --report-only        # rebuild tables + plots from the results file
    python -m benchmarks.run --models FASTopic --need-metrics nmi ari p1   # rerun cells recorded before a metric
    python -m benchmarks.run --full               # paper protocol: full-size sets, K in {25,50,75,100}, 5 seeds

Every run (dataset, model, K, seed) executes in its own subprocess (``python -m benchmarks.run --one ...``) and
is appended as one JSON line (config, seed, metrics, wall time, peak RSS) to ``benchmarks/results/runs.jsonl``;
finished runs are never redone, so an interrupted benchmark resumes where it stopped. Tables and plots are
rebuilt from that file after every run.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dsl_plugin.compare import METRIC_NAMES, mean_sd, metric_table

from . import logs_dir, results_dir, setup_environment, threads, work_dir
from .bench_data import DATASETS, octis_dataset, prepare
from .machine import machine_info
from .variants import (AUTO_ROWS, BENCH_LM, DSL_VARIANTS, STUDY_VARIANTS, embedding_model, settings,  # noqa: F401
                       settings_record, variant_of)

RUNS_FILE = "runs.jsonl"  # in results_dir()

# fixed stratified 4,000-document samples (bench_data.DATASETS): the default protocol fits in a few hours
DEFAULT_DATASETS = ["20newsgroups", "stackoverflow-4k", "tweet_topic-4k"]
FULL_DATASETS = ["20newsgroups-full", "stackoverflow", "tweet_topic"]
DEFAULT_KS = [25, 50]
DEFAULT_SEEDS = [0, 1, 2]
FULL_KS = [25, 50, 75, 100]
FULL_SEEDS = [0, 1, 2, 3, 4]
TOP_WORDS = 15  # the paper's setting for coherence and diversity

# DSL variants (name -> DSL keyword arguments; no language_model = BENCH_LM): benchmarks/variants.py
BASELINES = ["LDA", "ProdLDA", "CombinedTM", "ZeroshotTM", "ETM", "BERTopic", "BERTopic-DSL", "FASTopic", "ECRTM"]
DEFAULT_MODELS = ["DSL", "DSL-paper", *BASELINES, "DSL-smollm2", "DSL-0.1", "DSL-NLL", "DSL-NLL-BoW", "DSL-MiniLM",
                  "DSL-ETM", "DSL-ECRTM", "DSL-FASTopic"]  # the DSL target on the other backbones (issue 11)

TABLE1 = [(k, METRIC_NAMES[k]) for k in ("c_v", "c_npmi", "irbo", "td", "purity", "inverse_purity",
                                         "harmonic_purity", "purity_f", "nmi", "ari")]
TABLE2 = [(k, METRIC_NAMES[k]) for k in ("p1", "p5", "p10", "p5_unique", "p10_unique")]


# ----------------------------------------------------------------------------- one run (child process)

def dsl_kwargs(model_name: str) -> dict:
    """DSL keyword arguments of a DSL variant, with the benchmark's LM."""
    return {"language_model": BENCH_LM, **DSL_VARIANTS.get(model_name, {})}


@functools.lru_cache(maxsize=None)
def bench_corpus(dataset_name: str):
    """The prepared corpus of a benchmark data set (built once per process)."""
    return prepare(dataset_name)[0]


@functools.lru_cache(maxsize=None)
def resolved_settings(model_name: str, dataset_name: str) -> dict:
    """What a DSL variant's fit on this data set reads, its ``"auto"`` settings resolved by the documents' length
    and form (:meth:`DSL.resolved_for`; computed once per process: it reads every document)."""
    from dsl_plugin import DSL

    corpus = bench_corpus(dataset_name)
    model = DSL(**dsl_kwargs(model_name), embedding_model=embedding_model(model_name))
    return model.resolved_for(corpus.tokens, corpus.vocabulary, corpus.raw_texts)


def teacher_configs(model_name: str, dataset_name: str) -> list:
    """The teacher configurations a DSL variant's fit on this data set uses (``max_doc_tokens="auto"`` resolved as
    the fit does), or BERTopic-DSL's (``dsl_plugin.baselines.DSL_BACKEND_TEACHER``)."""
    from dsl_plugin import DSL

    if model_name == "BERTopic-DSL":
        from dsl_plugin.baselines import DSL_BACKEND_TEACHER

        return [DSL_BACKEND_TEACHER]
    tokens = resolved_settings(model_name, dataset_name)["max_doc_tokens"]
    return DSL(**{**dsl_kwargs(model_name), "max_doc_tokens": tokens}).teacher_configs


def _dsl_teacher_ready(dataset_name: str, model_name: str) -> bool:
    """Whether every teacher pass the variant needs on this data set is cached."""
    from dsl_plugin.teacher import SoftLabelTeacher

    corpus = bench_corpus(dataset_name)
    configs = teacher_configs(model_name, dataset_name)
    return all(SoftLabelTeacher(c).is_cached(corpus.raw_texts, corpus.vocabulary) for c in configs)


def evaluate(output: dict, dataset, unique_rows=None) -> dict:
    """All metrics of one model output (:func:`dsl_plugin.compare.evaluate` on the top ``TOP_WORDS`` words)."""
    from dsl_plugin.compare import evaluate as evaluate_output

    return evaluate_output(output, dataset, TOP_WORDS, unique_rows)


def fit_dsl(dataset, dsl_kwargs: dict, k: int, seed: int, work: Path, name: str = ""):
    """Fit DSL with ``dsl_kwargs`` (no language_model = BENCH_LM) in OCTIS; returns (output, model). ``name``: the
    DSL variant's (what sentence encoder it reads: :func:`variants.embedding_model`)."""
    from dsl_plugin import DSL

    kwargs = {"language_model": BENCH_LM, **dsl_kwargs}
    # the baselines' MiniLM cache, for whichever setting reads sentence embeddings (loaded only if one does)
    kwargs["embedding_model"] = embedding_model(name, cache_dir=work / "embeddings")
    model = DSL(num_topics=k, seed=seed, verbose=False, **kwargs)
    return model.train_model(dataset, top_words=TOP_WORDS), model


def run_one(dataset_name: str, model_name: str, k: int, seed: int) -> dict:
    """Fit one model once and evaluate it; returns the record (printed as JSON by the child)."""
    import numpy as np
    import torch

    torch.set_num_threads(threads())
    dataset = octis_dataset(dataset_name)
    raw = dataset.get_raw_corpus()
    unique_rows = None
    if dataset_name.startswith("tweet_topic"):
        first: dict[str, int] = {}
        for i, d in enumerate(raw):
            first.setdefault(d, i)
        unique_rows = np.array(sorted(first.values()))
    work = work_dir() / dataset_name
    t0 = time.time()
    if model_name in DSL_VARIANTS:
        output, model = fit_dsl(dataset, DSL_VARIANTS[model_name], k, seed, work, model_name)
        # its settings, and what the "auto" ones became on this data set (a later change of their rule keeps this
        # record's meaning)
        dsl_fields = {**settings_record(DSL_VARIANTS[model_name]), "resolved": model.resolved_}
        notes = model.describe()
    else:
        from dsl_plugin.baselines import run_baseline

        output = run_baseline(model_name, dataset, num_topics=k, seed=seed, work_dir=str(work), top_words=TOP_WORDS)
        notes, dsl_fields = output.get("notes", ""), {}
    fit_s = time.time() - t0
    res = evaluate(output, dataset, unique_rows)
    return {"dataset": dataset_name, "model": model_name, "k": k, "seed": seed,
            "config": DSL_VARIANTS.get(model_name, {}), "metrics": res,
            **dsl_fields,
            "fit_seconds": round(fit_s, 1), "eval_seconds": round(time.time() - t0 - fit_s, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "n_docs": len(raw), "notes": notes, "machine": machine_info(),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S")}


# ----------------------------------------------------------------------------- harness (parent)

def load_runs(path: Path | None = None, current_only: bool = True, as_resolved_today: bool = True) -> list[dict]:
    """Records of ``path`` (default ``runs.jsonl`` of the results folder; a torn last line from a killed run is
    ignored, and redone). With ``current_only``, each DSL run is counted under the variant that has its settings
    today (``variants.variant_of``: a run of 0.1's "DSL" is a "DSL-paper" run), and runs whose settings no
    variant has any more are left out. With ``as_resolved_today`` too, a run of a version's default ("DSL", and the
    other ``variants.AUTO_ROWS``) whose ``"auto"`` settings resolved otherwise than that row's resolve today on that
    data set
    (:func:`resolved_settings`; a later version changed what "auto" means there) counts under the variant whose
    explicit settings are what it resolved to (0.6's "DSL" on BBC News is "DSL-0.6"), or is left out. Other rows
    keep the runs of their settings as recorded: an earlier version's default ("DSL-0.5") holds what that version
    did; the quality study reads its log of named levers without the check either (each lever as its round ran
    it)."""
    from dsl_plugin.compare import load_runs as read_runs

    runs = read_runs(path or results_dir() / RUNS_FILE)
    return current_runs(runs, as_resolved_today) if current_only else runs


def current_runs(runs: list[dict], as_resolved_today: bool = True) -> list[dict]:
    """:func:`load_runs`'s ``current_only`` view of records already read."""
    current = []
    for r in runs:
        if r.get("model") in DSL_VARIANTS or "settings" in r:
            name = variant_of(r)
            if name in AUTO_ROWS and as_resolved_today and not _resolves_as_recorded(r, name):
                name = variant_of({**r, "settings": {**r["settings"], **r["resolved"]}})
            if name is None:
                continue
            r = r if name == r["model"] else {**r, "model": name, "recorded_as": r["model"]}
        current.append(r)
    return current


def _resolved_otherwise(records: list[dict]) -> dict[tuple[str, str], dict]:
    """(data set, variant) -> a recorded "resolved" of its runs that today's code no longer resolves to there (the
    rows of earlier versions and the study's levers keep their runs as recorded; a new run of theirs would train
    another model under the same name)."""
    return {(r["dataset"], r["model"]): r["resolved"] for r in records
            if r.get("model") in DSL_VARIANTS and "metrics" in r and not _resolves_as_recorded(r, r["model"])}


def _resolves_as_recorded(record: dict, name: str) -> bool:
    """Whether the DSL variant ``name`` resolves its "auto" settings today on the record's data set as the record's
    run did (its ``"resolved"``; records without one, or of a data set the benchmark no longer has, are taken as
    they are)."""
    recorded = record.get("resolved")
    if not recorded or "settings" not in record or record["dataset"] not in DATASETS:
        return True
    today = resolved_settings(name, record["dataset"])
    return all(today[k] == v for k, v in recorded.items() if k in today)


def append_run(record: dict, path: Path | None = None) -> None:
    """Append one record to ``path`` (default ``runs.jsonl``) as one flushed line
    (:func:`dsl_plugin.compare.append_run`)."""
    from dsl_plugin.compare import append_run as append

    append(record, path or results_dir() / RUNS_FILE)


def _dsl_version() -> str:
    from dsl_plugin import __version__

    return __version__


def newest_runs(runs: list[dict]) -> list[dict]:
    """One record per (dataset, model, K, seed) cell, the newest finished one: the one the tables show (a cell rerun,
    e.g. by ``--need-metrics``, or run by two harness processes, has several; means and tests count it once)."""
    return list({(r["dataset"], r["model"], r["k"], r["seed"]): r for r in runs if "metrics" in r}.values())


def finished_cells(runs: list[dict], need_metrics: tuple[str, ...] = ()) -> set[tuple[str, str, int, int]]:
    """The (dataset, model, K, seed) cells of ``runs`` whose newest finished record (the one the tables show) has
    every metric of ``need_metrics``."""
    return {(r["dataset"], r["model"], r["k"], r["seed"]) for r in newest_runs(runs)
            if all(m in r["metrics"] for m in need_metrics)}


def run_grid(grid: list[tuple[str, str, int, int]], runs_file: Path, compute_teacher: bool = False,
             after_each=None, jobs: int = 1, need_metrics: tuple[str, ...] = ()) -> None:
    """Run every (dataset, model, K, seed) not yet in ``runs_file``, one subprocess each, appending records.

    Args:
        grid: the cells, run in this order (with ``jobs`` > 1, that many at a time).
        runs_file: the append-only results file; cells with a finished record there are skipped.
        compute_teacher: let DSL cells compute missing teacher outputs (else they are skipped).
        after_each: called (under the harness lock) after every finished or failed cell.
        jobs: cells run at once, each in its own single-threaded subprocess.
        need_metrics: also rerun the cells whose newest record lacks one of these metrics (recorded before the
            metric existed); the new record is appended and supersedes the old one in the tables.
    """
    logs = logs_dir()
    logs.mkdir(parents=True, exist_ok=True)
    recorded = load_runs(runs_file, current_only=False)
    done = finished_cells(current_runs(recorded), need_metrics)
    # a row whose runs resolved "auto" otherwise than today would train another model under its name: the rows of
    # earlier versions keep their recorded name here ("DSL-0.12" on 20 Newsgroups since 0.14); "DSL", today's default,
    # runs anew (its earlier runs have moved to their version's row)
    mixed = {key: v for key, v in _resolved_otherwise(current_runs(recorded, as_resolved_today=False)).items()
             if key[1] != "DSL"}
    ready: dict[tuple[str, str], bool] = {}
    todo = []
    for ds, m, k, seed in grid:
        if (ds, m, k, seed) in done:
            continue
        if (ds, m) in mixed:  # a new run would train another model under the same name
            print(f"skip {ds} {m} K={k} seed={seed}: its recorded runs resolved 'auto' as {mixed[(ds, m)]}, today's "
                  "code resolves it otherwise; pin the row's settings (benchmarks/variants.py) to run more",
                  flush=True)
            continue
        if (m in DSL_VARIANTS or m == "BERTopic-DSL") and not compute_teacher:
            if (ds, m) not in ready:  # every variant needs hidden states or soft labels
                ready[(ds, m)] = _dsl_teacher_ready(ds, m)
            if not ready[(ds, m)]:
                print(f"skip {ds} {m} K={k} seed={seed}: teacher cache incomplete", flush=True)
                continue
        todo.append((ds, m, k, seed))
    lock = threading.Lock()

    def one(cell: tuple[str, str, int, int]) -> None:
        ds, m, k, seed = cell
        with lock:  # another harness process may have finished it meanwhile
            if cell in finished_cells(load_runs(runs_file), need_metrics):
                return
        t0 = time.time()
        log = logs / f"{ds}_{m}_K{k}_s{seed}.log"
        with open(log, "w") as err:  # the child inherits this process's environment and working directory
            proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--one", ds, m, str(k), str(seed)],
                                  stdout=subprocess.PIPE, stderr=err, text=True)
        with lock:
            if proc.returncode == 0 and proc.stdout.strip():
                rec = json.loads(proc.stdout.strip().splitlines()[-1])
                append_run(rec, runs_file)
                print(f"{ds} {m} K={k} seed={seed}: purity {rec['metrics']['purity']:.3f} "
                      f"P@10 {rec['metrics']['p10']:.3f} C_V {rec['metrics']['c_v']:.3f} "
                      f"({time.time() - t0:.0f} s)", flush=True)
            else:
                append_run({"dataset": ds, "model": m, "k": k, "seed": seed, "error": log.read_text()[-2000:],
                            "finished": time.strftime("%Y-%m-%d %H:%M:%S")}, runs_file)
                print(f"{ds} {m} K={k} seed={seed}: FAILED (see {log})", flush=True)
            if after_each is not None:
                after_each()

    if jobs <= 1:
        for cell in todo:
            one(cell)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, todo))  # list() re-raises a harness error instead of dropping it


def _time_estimate(runs: list[dict]) -> str:
    """Measured cost of the default protocol, and an estimate of what its missing cells will take.

    A missing cell costs the mean fit+eval seconds of the same (dataset, model) so far, whatever its K; a pair
    with no run yet is scaled by document count from the same model on another sample of the same source
    (e.g. full-size StackOverflow for ``stackoverflow-4k``); pairs with neither are counted as unknown.
    """
    import numpy as np

    spent, missing, unknown = 0.0, 0.0, 0
    cells = sorted(_default_cells())
    have = {(r["dataset"], r["model"], r["k"], r["seed"]) for r in runs}
    secs: dict[tuple[str, str], list[float]] = {}
    per_doc: dict[tuple[str, str], list[float]] = {}  # (source loader, model) -> seconds per document
    for r in runs:
        t = r["fit_seconds"] + r.get("eval_seconds", 0)
        secs.setdefault((r["dataset"], r["model"]), []).append(t)
        if r.get("n_docs") and r["dataset"] in DATASETS:
            per_doc.setdefault((DATASETS[r["dataset"]][0], r["model"]), []).append(t / r["n_docs"])
    n_docs = {r["dataset"]: r["n_docs"] for r in runs if r.get("n_docs")}
    for ds, m, k, s in cells:
        t = secs.get((ds, m))
        scaled = per_doc.get((DATASETS[ds][0], m))
        if (ds, m, k, s) in have:
            spent += float(np.mean(t))
        elif t:
            missing += float(np.mean(t))
        elif scaled and (n_docs.get(ds) or DATASETS[ds][1].get("sample")):
            missing += float(np.mean(scaled)) * (n_docs.get(ds) or DATASETS[ds][1]["sample"])
        else:
            unknown += 1
    if not missing and not unknown:
        return (f"Cost (measured, 1 thread per run, excluding teacher passes): the default protocol's runs took "
                f"{spent / 3600:.1f} h of single-core time; wall time is lower: by default one run per core at a "
                "time.")
    return (f"Cost (measured, 1 thread per run, excluding teacher passes): finished default-protocol runs took "
            f"{spent / 3600:.1f} h of single-core time; the missing ones would take about {missing / 3600:.1f} h "
            "more (mean time of the same dataset/model so far whatever its K, an underestimate for K=50; pairs "
            "not run yet are scaled by document count from the full-size data set), plus "
            f"{unknown} runs with no timing to go by. Wall time is lower: by default one run per core at a time.")


def _default_cells() -> set[tuple[str, str, int, int]]:
    """Every (dataset, model, K, seed) of the default protocol."""
    return {(ds, m, k, s) for ds in DEFAULT_DATASETS for m in DEFAULT_MODELS for k in DEFAULT_KS
            for s in DEFAULT_SEEDS}


def _per_k_table(rs: list[dict], models: list[str]) -> list[str]:
    """Markdown lines: purity and P@10 per K (mean ± std over that K's seeds), like the paper's Table 7."""
    ks = sorted({r["k"] for r in rs})
    lines = ["## Per K (purity / P@10, mean ± std over the seeds run at that K)", "",
             "| model | " + " | ".join(f"K={k}" for k in ks) + " |", "|---" * (len(ks) + 1) + "|"]
    for m in models:
        cells = []
        for k in ks:
            mr = [r["metrics"] for r in rs if r["model"] == m and r["k"] == k]
            if not mr:
                cells.append("–")
                continue
            cells.append(f"{mean_sd([x['purity'] for x in mr])} / {mean_sd([x['p10'] for x in mr])} (n={len(mr)})")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines + [""]


def teacher_seconds_per_doc(record: dict) -> float:
    """Seconds per LM-computed document of a ``teacher_runs.jsonl`` record: its process CPU time where recorded
    (1 thread: robust to a shared box and to a pass stopped and resumed by hand), else wall time minus a recorded
    pause."""
    seconds = record["cpu_seconds"] if "cpu_seconds" in record else record["seconds"] - record.get("paused_seconds", 0)
    return seconds / record["computed"]


def _teacher_time() -> str:
    """Recorded teacher passes (``teacher_pass.py``) over the default protocol's data sets."""
    path = results_dir() / "teacher_runs.jsonl"
    passes: dict[tuple[str, str], dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if (r["dataset"] in DEFAULT_DATASETS and r.get("computed") and "variant" not in r
                    and r.get("word_scoring", "first_token") == "first_token"):
                # the last complete pass of each (LM, data set) with the default teacher settings (a variant's own
                # teacher, e.g. DSL-int8's, is another cache entry at another cost)
                passes[(r["lm"], r["dataset"])] = r
    if not passes:
        return "Teacher passes: none recorded for the default data sets."
    default_lms = {DSL_VARIANTS.get(m, {}).get("language_model", BENCH_LM) for m in DEFAULT_MODELS}
    # the time of a whole pass over the data set's unique documents; "~" marks an estimate: a pass paused by hand
    # with only its wall time recorded, or one that resumed a partial cache (its rate scaled to every document)
    def estimated(r):
        return (("paused_seconds" in r and "cpu_seconds" not in r)
                or r["computed"] < r.get("unique_docs", r["computed"]))
    active = {key: teacher_seconds_per_doc(r) * r.get("unique_docs", r["computed"]) for key, r in passes.items()}
    parts = [f"{lm} {ds} {'~' if estimated(r) else ''}{active[(lm, ds)] / 60:.0f} min"
             for (lm, ds), r in sorted(passes.items())]
    total = sum(t for (lm, _), t in active.items() if lm in default_lms) / 3600
    return (f"Teacher passes over the default data sets (`python -m benchmarks.teacher_pass`, 1 thread, cached once and "
            f"shared by every DSL run): {total:.1f} h for the default protocol's LMs ({', '.join(sorted(default_lms))}); "
            f"every recorded pass: {'; '.join(parts)}.")


def _rerun_agreement(records: list[dict]) -> list[str]:
    """Markdown lines: per model, how far the reruns of a cell (e.g. ``--need-metrics``; same data, K and seed)
    are from its first record, on purity and P@10: whether a rerun is the same model."""
    first: dict[tuple, dict] = {}
    diffs: dict[str, list[float]] = {}
    for r in records:
        if "metrics" not in r:
            continue
        cell = (r["dataset"], r["model"], r["k"], r["seed"])
        if cell not in first:
            first[cell] = r
            continue
        old = first[cell]["metrics"]
        diffs.setdefault(r["model"], []).append(max(abs(r["metrics"][m] - old[m]) for m in ("purity", "p10")))
    if not diffs:
        return []
    rows = [f"| {m} | {len(d)} | {sum(x == 0 for x in d)} | {max(d):.4f} |" for m, d in sorted(diffs.items())]
    return ["## Reruns of recorded cells", "",
            "A cell (data set, model, K, seed) run again, e.g. by `--need-metrics` for metrics added later: the "
            "tables show the newest record. Largest absolute difference from the cell's first record, purity or "
            "P@10:", "", "| model | reruns | identical | largest difference |", "|---|---|---|---|", *rows, ""]


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for p in ["torch", "transformers", "octis", "contextualized-topic-models", "bertopic", "fastopic", "gensim",
              "numpy", "scipy", "scikit-learn", "sentence-transformers"]:
        try:
            out.append(f"{p} {version(p)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def report(datasets: list[str] | None = None) -> None:
    """Write per-dataset markdown tables (mean ± std over K and seeds, Welch t-test) and bar plots."""
    import numpy as np

    results = results_dir()
    results.mkdir(parents=True, exist_ok=True)
    records = load_runs()
    runs = newest_runs(records)
    ok = {(r["dataset"], r["model"], r["k"], r["seed"]) for r in runs}
    failed = [r for r in records if "error" in r and (r["dataset"], r["model"], r["k"], r["seed"]) not in ok]
    datasets = datasets or sorted({r["dataset"] for r in runs})
    cells = _default_cells()
    n_default, n_cells = len(ok & cells), len(cells)
    sample = " / ".join(f"{n:,}" for n in sorted({DATASETS[ds][1]["sample"] for ds in DEFAULT_DATASETS}))
    machines = sorted({r.get("machine", "unrecorded") for r in runs})
    index = ["# Benchmark results", "", "Machines the runs were made on (each run records its own): "
             + "; ".join(machines), "", f"Packages: {_versions()}", "",
             "Command: `python -m benchmarks.run` (resumable; every run is a line of `runs.jsonl`).", "",
             f"Rows: `DSL` is the package's default `DSL()` ({_dsl_version()}); `DSL-0.5`, `DSL-0.4`, ... are the "
             "defaults of earlier versions, `DSL-paper` is the published method (`DSL(preset=\"paper\")`), the other "
             "`DSL-*` rows are ablations and opt-in levers (benchmarks/variants.py). How the defaults were chosen, "
             "what each costs and every lever that lost: [quality_study.md](quality_study.md).", "",
             f"Status: {'COMPLETE, ' if n_default == n_cells else ''}{n_default} finished runs of the default "
             f"protocol's {n_cells} ({len(DEFAULT_DATASETS)} datasets x {len(DEFAULT_MODELS)} models x K "
             f"{DEFAULT_KS} x seeds {DEFAULT_SEEDS}; every data set a fixed stratified sample of {sample} documents). "
             "Tables cover finished runs only: a model with fewer runs (an unfinished protocol, or an opt-in model "
             "run on part of the grid) is PARTIAL, and its mean is not comparable in K/seed coverage (see the runs "
             "column).", "",
             _time_estimate(runs), "", _teacher_time(), "", *_rerun_agreement(records)]
    default_index = ["## Default protocol", ""]
    other_index = ["", "## Other runs (opt-in data sets, not part of the default protocol)", "",
                   "Full-size sets: `python -m benchmarks.run --full` (or `--datasets stackoverflow tweet_topic`). "
                   "`*-aswritten`: the default 4k samples with the paper authors' word filter "
                   "(`python -m benchmarks.compare_tokenizers`).", ""]
    for ds in datasets:
        rs = [r for r in runs if r["dataset"] == ds]
        if not rs:
            continue
        models = list(dict.fromkeys(m for m in DEFAULT_MODELS + sorted({r["model"] for r in rs})
                                    if any(r["model"] == m for r in rs)))
        lines = [f"# {ds}: {DATASETS[ds][2] if ds in DATASETS else ds}", "",
                 f"{len(rs)} runs; values are mean ± std over every (K, seed) run listed in the `runs` column. "
                 "**Bold**: best; *italic*: not significantly different from the best (Welch's t-test, "
                 "p ≥ 0.05). Coherence (C_V, NPMI) uses the dataset's own corpus as reference "
                 f"(Wikipedia/Palmetto is not reachable here), top-{TOP_WORDS} words.", ""]
        for title, cols in (("Table 1 (topic quality and assignment)", TABLE1), ("Table 2 (retrieval)", TABLE2)):
            lines += [f"## {title}", "", *metric_table(rs, models, cols), ""]
        lines += _per_k_table(rs, models)
        lines += ["## Cost", "", "| model | fit s (mean) | peak RSS MB (max) |", "|---|---|---|"]
        for m in models:
            mr = [r for r in rs if r["model"] == m]
            rss = [r["peak_rss_mb"] for r in mr if "peak_rss_mb" in r]  # runs copied from a sweep have none
            lines.append(f"| {m} | {np.mean([r['fit_seconds'] for r in mr]):.0f} | "
                         f"{max(rss) if rss else float('nan'):.0f} |")
        notes = {r["model"]: r.get("notes", "") for r in rs if r.get("notes")}
        if notes:
            lines += ["", "## Notes per model", ""] + [f"- **{m}**: {n}" for m, n in notes.items()]
        fails = [r for r in failed if r["dataset"] == ds]
        if fails:
            lines += ["", "## Failed runs", ""] + [f"- {r['model']} K={r['k']} seed={r['seed']}: {r['error'][:300]}"
                                                   for r in fails]
        lines += ["", f"![{ds}]({ds}.png)", ""]
        (results / f"{ds}.md").write_text("\n".join(lines))
        _plot(ds, rs, models)
        (default_index if ds in DEFAULT_DATASETS else other_index).append(f"- [{ds}]({ds}.md): {len(rs)} runs")
    index += default_index + other_index + ["", "## Other reports", ""]
    for extra, desc in (("FINDINGS.md", "the written reading of these results"),
                        ("quality_study.md", "the quality study (issue 14): how `DSL()`'s defaults were chosen, "
                                             "round by round, each by a rule written before its runs"),
                        ("theta_sharpness.md", "how flat each model's document-topic proportions are, and what that "
                                               "does to KL-retrieval P@10 (a diagnostic)"),
                        ("perf.md", "speed and memory"),
                        ("lm_choice.md", "DSL per packaged LM"),
                        ("llm_judge_check.md", "packaged LMs as the LLMRating judge"),
                        ("tokenizer_effect.md", "our word filter vs the paper authors' (why their short-text "
                                                "baselines are weaker)")):
        if (results / extra).exists():
            index.append(f"- [{extra}]({extra}): {desc}")
    for f in sorted(results.glob("sweep_*.md")):
        index.append(f"- [{f.name}]({f.name}): DSL training-side sweep (`python -m benchmarks.sweep_dsl`)")
    for f in sorted(results.glob("teacher_diagnosis_*.md")):
        index.append(f"- [{f.name}]({f.name}): teacher outputs on their own (`python -m benchmarks.diagnose_teacher`)")
    (results / "README.md").write_text("\n".join(index) + "\n")


def _plot(ds: str, rs: list[dict], models: list[str]) -> None:
    from dsl_plugin.plots import metric_bars

    metric_bars(rs, models, [(k, METRIC_NAMES[k]) for k in ("purity", "p10", "c_v", "irbo")],
                title=f"{ds}: mean ± std over K and seeds (blue = DSL variants)", path=results_dir() / f"{ds}.png")


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=None,
                    help=f"default {DEFAULT_DATASETS}; with --full {FULL_DATASETS}")
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    ap.add_argument("--ks", nargs="+", type=int, default=None)
    ap.add_argument("--seeds", nargs="+", type=int, default=None)
    ap.add_argument("--full", action="store_true",
                    help="paper protocol: full-size data sets, K in {25,50,75,100}, 5 seeds")
    ap.add_argument("--compute-teacher", action="store_true",
                    help="let DSL runs compute missing teacher outputs (hours); default: skip them until "
                         "python -m benchmarks.teacher_pass has filled the cache")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1) // threads()),
                    help="runs at once, each single-threaded (default: one per core)")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--need-metrics", nargs="+", default=[], choices=sorted(METRIC_NAMES), metavar="METRIC",
                    help="also rerun the cells whose record lacks one of these metrics (e.g. nmi ari p1: records "
                         "older than those metrics); the new record supersedes the old one")
    ap.add_argument("--one", nargs=4, metavar=("DATASET", "MODEL", "K", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        ds, m, k, s = args.one
        print(json.dumps(run_one(ds, m, int(k), int(s))))
        return
    if args.report_only:
        report()
        return
    ks = args.ks or (FULL_KS if args.full else DEFAULT_KS)
    seeds = args.seeds or (FULL_SEEDS if args.full else DEFAULT_SEEDS)
    datasets = args.datasets or (FULL_DATASETS if args.full else DEFAULT_DATASETS)
    t_start = time.time()
    # K outermost: an interrupted default protocol has its K=25 cells complete over all seeds first
    grid = [(ds, m, k, seed) for k in ks for seed in seeds for ds in datasets for m in args.models]
    run_grid(grid, results_dir() / RUNS_FILE, compute_teacher=args.compute_teacher, after_each=report, jobs=args.jobs,
             need_metrics=tuple(args.need_metrics))
    print(f"benchmark pass finished in {time.time() - t_start:.0f} s", flush=True)
    report()


if __name__ == "__main__":
    main()
