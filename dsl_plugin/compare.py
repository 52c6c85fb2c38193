"""Side-by-side comparison of DSL and the baselines on any corpus, resumable.

    from dsl_plugin.compare import compare
    result = compare("my_texts.jsonl", models=["DSL", "ProdLDA", "CombinedTM"], ks=[20, 50], seeds=3,
                     out_dir="comparison")
    print(result)                      # the Markdown table; result.table is a pandas DataFrame

or ``dsl-topic compare my_texts.jsonl --models DSL ProdLDA CombinedTM --ks 20 50 --seeds 3 --out comparison``.

``data`` is an OCTIS folder (with or without ``raw_documents.jsonl``), a ``.jsonl`` file (one
``{"text": ..., "label": ...}`` object per line, label optional), a ``.tsv`` / ``.csv`` file (a ``text``
column, else the first column; an optional ``label`` column; the first row is the header), a ``.txt`` file
(one document per line), a list of strings (``labels=`` optional), an OCTIS ``Dataset`` object, or the name
of a data set known to :func:`dsl_plugin.data.load_texts` (e.g. ``"demo"``).

Every (model, K, seed) run is fitted in this process and appended to ``out_dir/runs.jsonl`` as one JSON line
as soon as it finishes, keyed by the data's fingerprint, the model, K, seed, top words and the model's
settings: running the same call again skips the finished runs (failed ones are retried), so an interrupted
comparison resumes where it stopped. Written next to it: ``comparison.md`` (tables: mean ± sd over seeds and
K, best in bold, italic when Welch's t-test cannot tell it from the best), ``comparison.csv`` (the same numbers
per model and per K), ``plots/metrics.png`` (one bar panel per metric) and, for the first seed of every
(model, K), ``plots/<model>-K<k>-topics.png`` and ``-documents.png``.

Metrics: coherence (C_V, NPMI; reference corpus = this corpus) and diversity (I-RBO, topic diversity) on the
top words always; the purity family, NMI, ARI and KL retrieval P@1 / P@5 / P@10 when the data has labels.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .cache import hash_documents
from .fileio import atomic_write_text

logger = logging.getLogger(__name__)

DSL_NAME = "DSL"
DEFAULT_MODELS = ("DSL", "ZeroshotTM", "CombinedTM", "ProdLDA", "FASTopic", "BERTopic")
# metric key -> column name (the benchmark tables use the same names)
METRIC_NAMES = {
    "c_v": "C_V", "c_npmi": "NPMI", "irbo": "I-RBO", "td": "TD",
    "purity": "Purity", "inverse_purity": "Inv.Purity", "harmonic_purity": "Harm.P (2PI/(P+I))",
    "purity_f": "Purity-F (TopicGPT)", "nmi": "NMI", "ari": "ARI",
    "p1": "P@1", "p5": "P@5", "p10": "P@10", "p5_unique": "P@5 uniq", "p10_unique": "P@10 uniq",
}
TEXT_SUFFIXES = (".jsonl", ".tsv", ".csv", ".txt")


# ----------------------------------------------------------------------------- data

@dataclass
class CorpusData:
    """A corpus ready for every model: an OCTIS dataset with raw text, and what it holds."""

    dataset: Any  # RawTextDataset, or the caller's OCTIS Dataset
    name: str
    source: str
    has_raw_text: bool
    has_labels: bool
    fingerprint: str

    @property
    def n_docs(self) -> int:
        return len(self.dataset.get_corpus())

    def describe(self) -> str:
        raw = "raw text" if self.has_raw_text else "NO raw text (DSL and the embedding models read the joined tokens)"
        labels = f"{len(set(self.dataset.get_labels()))} labels" if self.has_labels else "no labels"
        return (f"{self.name}: {self.n_docs} documents, |V| = {len(self.dataset.get_vocabulary())}, {labels}, "
                f"{raw} (from {self.source})")


def _fingerprint(dataset, raw: list[str] | None) -> str:
    parts = [" ".join(d) for d in dataset.get_corpus()] + ["\x00vocabulary"] + list(dataset.get_vocabulary())
    parts += ["\x00labels"] + [str(x) for x in (dataset.get_labels() or [])]
    parts += ["\x00raw"] + list(raw or [])
    return hash_documents(parts)[:16]


def _read_table(path: Path, text_column: str | None, label_column: str | None) -> tuple[list[str], list | None]:
    import pandas as pd

    tsv = path.suffix.lower() == ".tsv"
    try:
        df = pd.read_csv(path, sep="\t" if tsv else ",", dtype=str, keep_default_na=False,
                         quoting=3 if tsv else 0)
    except pd.errors.EmptyDataError as err:
        raise ValueError(f"{path} is empty: no header and no documents") from err
    if df.empty:
        raise ValueError(f"{path} has a header ({list(df.columns)}) but no documents")
    if text_column is None:
        text_column = "text" if "text" in df.columns else df.columns[0]
    if text_column not in df.columns:
        raise ValueError(f"{path} has no column {text_column!r} (text_column); its columns: {list(df.columns)}")
    if label_column is None and "label" in df.columns:
        label_column = "label"
    if label_column is not None and label_column not in df.columns:
        raise ValueError(f"{path} has no column {label_column!r} (label_column); its columns: {list(df.columns)}")
    labels = df[label_column].tolist() if label_column is not None else None
    return df[text_column].tolist(), labels


def _read_jsonl(path: Path, text_column: str | None, label_column: str | None) -> tuple[list[str], list | None]:
    from .data import json_lines

    text_key, label_key = text_column or "text", label_column or "label"
    texts, labels = [], []
    for n, row in json_lines(path):
        if not isinstance(row, dict) or text_key not in row:
            raise ValueError(f'{path} line {n}: expected a JSON object with a "{text_key}" key, got '
                             f"{str(row)[:80]!r}")
        texts.append(row[text_key])
        labels.append(row.get(label_key))
    if not texts:
        raise ValueError(f"{path} has no documents")
    if label_column is not None and all(lab is None for lab in labels):
        raise ValueError(f'{path}: no line has the label key "{label_key}" (label_column)')
    return texts, labels


def _clean_labels(labels: list | None, source: str) -> list | None:
    if labels is None:
        return None
    missing = sum(1 for lab in labels if lab is None or str(lab).strip() == "")
    if missing == len(labels):
        return None
    if missing:
        warnings.warn(f"{source}: {missing} of {len(labels)} documents have no label; labels are ignored "
                      "(purity and P@k need a label for every document)", stacklevel=4)
        return None
    return labels


def load_corpus(data, labels: Sequence | None = None, *, text_column: str | None = None,
                label_column: str | None = None, vocabulary_size: int = 2000, sample: int | None = None,
                sample_seed: int = 0) -> CorpusData:
    """Turn any supported ``data`` (see the module docstring) into a :class:`CorpusData`.

    Texts are tokenised with :func:`dsl_plugin.data.prepare_corpus` (a ``vocabulary_size``-word vocabulary);
    an OCTIS folder or ``Dataset`` keeps its own tokens and vocabulary.

    Raises:
        FileNotFoundError: ``data`` names no file, folder or known data set.
        ValueError: unsupported file type, missing text/label column, empty data, bad labels.
    """
    from octis.dataset.dataset import Dataset

    from .data import DATASETS, RAW_DOCUMENTS_FILE, load_texts, prepare_corpus, sample_documents
    from .octis_io import RawTextDataset, load_dataset, raw_corpus

    source = "a Python list"
    if isinstance(data, Dataset):
        if labels is not None or sample is not None:
            raise ValueError("labels= and sample= apply to texts; an OCTIS Dataset brings its own labels")
        path = getattr(data, "dataset_path", None)
        has_raw = callable(getattr(data, "get_raw_corpus", None)) and getattr(data, "_raw_corpus", "") is not None \
            or bool(path and (Path(path) / RAW_DOCUMENTS_FILE).exists())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = raw_corpus(data) if has_raw else None
        return _corpus_data(data, Path(path).name if path else "dataset", "an OCTIS Dataset", has_raw, raw)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.is_dir():
            if labels is not None or sample is not None:
                raise ValueError(f"labels= and sample= apply to texts; the OCTIS folder {path} brings its own")
            if not (path / "corpus.tsv").exists():
                raise FileNotFoundError(f"{path} is a folder without corpus.tsv: not an OCTIS dataset folder "
                                        f"(or pass a {'/'.join(TEXT_SUFFIXES)} file)")
            has_raw = (path / RAW_DOCUMENTS_FILE).exists()
            with warnings.catch_warnings():  # said once, by _corpus_data, naming every model it affects
                warnings.filterwarnings("ignore", message=f".*has no {RAW_DOCUMENTS_FILE}.*")
                ds = load_dataset(path)
            raw = ds.get_raw_corpus() if has_raw else None
            return _corpus_data(ds, path.name, f"OCTIS folder {path}", has_raw, raw)
        if path.is_file():
            suffix = path.suffix.lower()
            if suffix == ".jsonl":
                texts, file_labels = _read_jsonl(path, text_column, label_column)
            elif suffix in (".tsv", ".csv"):
                texts, file_labels = _read_table(path, text_column, label_column)
            elif suffix == ".txt":
                texts = [t for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
                file_labels = None
            else:
                raise ValueError(f"{path}: unsupported file type {suffix!r}; DATA must be an OCTIS folder or a "
                                 f"{', '.join(TEXT_SUFFIXES)} file")
            labels = file_labels if labels is None else labels
            source, name = f"file {path}", path.stem
        elif str(data) in DATASETS:
            texts, named_labels = load_texts(str(data))
            labels = named_labels if labels is None else labels
            source, name = f"data set {data!r} (dsl_plugin.data.load_texts)", str(data)
        else:
            raise FileNotFoundError(f"{data}: no such file or folder. DATA must be an OCTIS folder, a "
                                    f"{', '.join(TEXT_SUFFIXES)} file, a list of texts or one of the named data "
                                    f"sets {sorted(DATASETS)}")
    elif isinstance(data, (list, tuple)):
        texts, name = list(data), "texts"
    else:
        raise TypeError(f"data must be a path, a list of strings or an OCTIS Dataset, got {type(data).__name__}")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"documents must be strings; document {bad[0]} of {source} is {type(texts[bad[0]]).__name__}")
    if labels is not None and len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels for {len(texts)} documents ({source})")
    labels = _clean_labels(None if labels is None else list(labels), source)
    if sample is not None:
        texts, labels = sample_documents(texts, labels, int(sample), sample_seed)
    corpus = prepare_corpus(texts, labels, vocabulary_size=vocabulary_size)
    ds = RawTextDataset(corpus=corpus.tokens, vocabulary=corpus.vocabulary, labels=corpus.labels,
                        metadata={"total_documents": len(corpus), "last-training-doc": len(corpus),
                                  "last-validation-doc": len(corpus)}, raw_corpus=corpus.raw_texts)
    return _corpus_data(ds, name, source, True, corpus.raw_texts)


def _corpus_data(ds, name: str, source: str, has_raw: bool, raw: list[str] | None) -> CorpusData:
    if not ds.get_corpus():
        raise ValueError(f"{source} has no documents")
    if not ds.get_vocabulary():
        raise ValueError(f"{source} has an empty vocabulary")
    labels = ds.get_labels()
    has_labels = bool(labels) and len(labels) == len(ds.get_corpus())
    if not has_raw:
        warnings.warn(f"{source} has no raw text (raw_documents.jsonl): DSL and the embedding-based baselines "
                      "(CombinedTM, ZeroshotTM, BERTopic, FASTopic) read the joined preprocessed tokens, which "
                      "gives them less to work with. Write the folder with dsl_plugin.data.write_octis_folder, or "
                      "pass the texts, to keep it.", stacklevel=3)
    return CorpusData(ds, name, source, has_raw, has_labels, _fingerprint(ds, raw))


# ----------------------------------------------------------------------------- evaluation and tables

def evaluate(output: dict, dataset, top_words: int = 10, unique_rows: Sequence[int] | None = None) -> dict:
    """Every metric the data allows for one OCTIS-style model output.

    Coherence (``c_v``, ``c_npmi``: reference corpus = the dataset's own non-empty documents) and diversity
    (``irbo``, ``td``) on the top ``min(top_words, shortest topic)`` words, always; with labels also
    ``purity``, ``inverse_purity``, ``harmonic_purity``, ``purity_f``, ``nmi``, ``ari``, ``p1``, ``p5``, ``p10``
    (and ``p5_unique`` / ``p10_unique`` over ``unique_rows``, e.g. de-duplicated tweets). ``topk_used`` records
    the word count. Every key but ``topk_used`` is a table column (:data:`METRIC_NAMES`).
    """
    from octis.evaluation_metrics.coherence_metrics import Coherence
    from octis.evaluation_metrics.diversity_metrics import InvertedRBO, TopicDiversity

    from . import metrics as M

    topics = [t for t in output["topics"] if len(t) > 0]
    if not topics:
        raise ValueError("the model output has no topic words")
    topk = min(top_words, min(len(t) for t in topics))
    texts = [d for d in dataset.get_corpus() if d]
    out_t = {"topics": topics}
    res = {
        "c_v": Coherence(texts=texts, topk=topk, measure="c_v").score(out_t),
        "c_npmi": Coherence(texts=texts, topk=topk, measure="c_npmi").score(out_t),
        "irbo": InvertedRBO(topk=topk).score(out_t),
        "td": TopicDiversity(topk=topk).score(out_t),
        "topk_used": topk,
    }
    labels = dataset.get_labels()
    theta = np.asarray(output["topic-document-matrix"]).T  # N x K
    if labels is not None and len(labels) == theta.shape[0]:
        res.update(purity=M.purity(theta, labels), inverse_purity=M.inverse_purity(theta, labels),
                   harmonic_purity=M.harmonic_purity(theta, labels), purity_f=M.purity_f_measure(theta, labels))
        res["nmi"], res["ari"] = M.nmi(theta, labels), M.ari(theta, labels)
        p = M.retrieval_precision_at_k(theta, labels, ks=(1, 5, 10))
        res["p1"], res["p5"], res["p10"] = p[1], p[5], p[10]
        if unique_rows is not None:
            rows = list(unique_rows)
            pu = M.retrieval_precision_at_k(theta[rows], [labels[i] for i in rows], ks=(5, 10))
            res["p5_unique"], res["p10_unique"] = pu[5], pu[10]
    return {k: float(v) for k, v in res.items()}


def mean_sd(values) -> str:
    """``"mean ± sample std"`` with 3 decimals (std 0 for a single value): every table's cell format."""
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1) if len(values) > 1 else 0:.3f}"


def welch_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Welch's t-test p-value (nan when both samples are constant: scipy's precision warning silenced)."""
    from scipy.stats import ttest_ind

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(ttest_ind(a, b, equal_var=False).pvalue)


def metric_table(runs: Sequence[dict], models: Sequence[str], columns: Sequence[tuple[str, str]]) -> list[str]:
    """Markdown lines: one row per model, mean ± sd of each metric over its runs.

    **Bold**: the best mean (every metric here is better when higher); *italic*: not significantly different
    from the best (Welch's t-test, p ≥ 0.05, or the same constant values; both with 2+ runs). Columns no run
    has are left out.
    """
    columns = [(k, n) for k, n in columns if any(k in r["metrics"] for r in runs)]
    lines = ["| model | runs (K×seeds) | " + " | ".join(n for _, n in columns) + " |",
             "|---" * (len(columns) + 2) + "|"]
    vals = {m: {k: [r["metrics"][k] for r in runs if r["model"] == m and k in r["metrics"]] for k, _ in columns}
            for m in models}
    best = {}
    for k, _ in columns:
        means = {m: np.mean(v[k]) for m, v in vals.items() if v[k]}
        if means:
            best[k] = max(means, key=means.get)
    for m in models:
        cells_k = sorted({(r["k"], r["seed"]) for r in runs if r["model"] == m})
        kdesc = ",".join(str(x) for x in sorted({k for k, _ in cells_k}))
        cells = []
        for k, _ in columns:
            v = vals[m][k]
            if not v:
                cells.append("–")
                continue
            cell, b = mean_sd(v), vals[best[k]][k]
            if m == best[k]:
                cell = f"**{cell}**"
            elif len(v) > 1 and len(b) > 1 and not welch_p(v, b) < 0.05:  # nan: both constant and equal, a tie
                cell = f"*{cell}*"
            cells.append(cell)
        lines.append(f"| {m} | {len(cells_k)} (K={kdesc}) | " + " | ".join(cells) + " |")
    return lines


# ----------------------------------------------------------------------------- runs file

def load_runs(path: str | os.PathLike) -> list[dict]:
    """Records of a runs file (a torn last line from a killed run is ignored, and that run redone)."""
    path = Path(path)
    if not path.exists():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return runs


def append_run(record: dict, path: str | os.PathLike) -> None:
    """Append one record as a single write of one line, flushed to disk (safe to interrupt)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, default=str) + "\n").encode("utf-8")  # default: e.g. an embedding_model object
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _params_key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _run_key(rec: dict) -> tuple:
    return (rec.get("fingerprint"), rec["model"], rec["k"], rec["seed"], rec.get("top_words"),
            _params_key(rec.get("params", {})), rec.get("dsl_version"))


def _cell(fingerprint: str, model: str, k: int, seed: int, top_words: int, params: dict) -> dict:
    """One run of the grid. A DSL run also records the package version: DSL's defaults change between versions
    (0.5 added a penalty on duplicate topics), so a DSL run of an output folder made by another version is redone
    rather than shown next to this version's (the baselines' runs are kept)."""
    from . import __version__

    return {"fingerprint": fingerprint, "model": model, "k": k, "seed": seed, "top_words": top_words, "params": params,
            **({"dsl_version": __version__} if model == DSL_NAME else {})}


# ----------------------------------------------------------------------------- the comparison

@dataclass
class Comparison:
    """What :func:`compare` made: the runs, the summary table and the files written."""

    out_dir: Path
    data: CorpusData
    models: list[str]
    runs: list[dict]
    failed: list[dict]
    table: Any  # pandas.DataFrame: one row per (model, K) and per model over all K ("all")
    markdown: str
    files: dict[str, Path] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.markdown


def _seeds(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be a number of seeds >= 1 or a list of seeds, got {seeds}")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("seeds is empty")
    return out


def _check_models(models: Sequence[str], params: dict[str, dict]) -> None:
    from .baselines import ALL_BASELINES, check_baseline
    from .model import DSL

    allowed = [DSL_NAME, *ALL_BASELINES]
    unknown = [m for m in models if m not in allowed]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown} in models; allowed: {allowed}")
    if len(set(models)) != len(models):
        raise ValueError(f"models has duplicates: {list(models)}")
    extra = sorted(set(params) - set(models))
    if extra:
        raise ValueError(f"params given for {extra}, which are not in models {list(models)}")
    for m in models:
        p = dict(params.get(m, {}))
        if m == DSL_NAME:
            fixed = sorted({"num_topics", "seed"} & set(p))
            if fixed:
                raise ValueError(f"params for DSL must not set {fixed}: use ks= and seeds=")
            DSL().set_hyperparameters(**p)  # unknown names or bad values raise here, before any training
        else:
            check_baseline(m, p)


def _fit(model: str, data: CorpusData, k: int, seed: int, params: dict, top_words: int, work: Path) -> dict:
    if model == DSL_NAME:
        from .model import DSL

        dsl = DSL(num_topics=k, seed=seed, **{"verbose": False, **params})
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*no raw text.*")  # said once, when the data was loaded
            out = dsl.train_model(data.dataset, top_words=top_words)
        # what it read on this corpus ("auto" settings resolved), and the settings given
        out["notes"] = f"DSL: {dsl.describe()}" + (f"; given {params}" if params else "")
        out["resolved"] = dsl.resolved_
        return out
    from .baselines import run_baseline

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no raw text.*")
        return run_baseline(model, data.dataset, num_topics=k, seed=seed, work_dir=str(work), top_words=top_words,
                            **params)


def _summary(runs: list[dict], models: list[str], ks: list[int], keys: list[str]):
    import pandas as pd

    rows = []
    for m in models:
        for k in [*ks, "all"]:
            rs = [r for r in runs if r["model"] == m and (k == "all" or r["k"] == k)]
            if not rs:
                continue
            row = {"model": m, "k": k, "runs": len(rs)}
            for key in keys:
                v = [r["metrics"][key] for r in rs if key in r["metrics"]]
                row[f"{key}_mean"] = float(np.mean(v)) if v else np.nan
                row[f"{key}_sd"] = float(np.std(v, ddof=1)) if len(v) > 1 else (0.0 if v else np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def _report(out_dir: Path, data: CorpusData, models: list[str], ks: list[int], seeds: list[int], top_words: int,
            plots: bool, runs: list[dict], failed: list[dict]) -> tuple[str, Any]:
    keys = [k for k in METRIC_NAMES if any(k in r["metrics"] for r in runs)]
    columns = [(k, METRIC_NAMES[k]) for k in keys]
    lines = [f"# Comparison on {data.name}", "", data.describe() + ".", "",
             f"Models {', '.join(models)}; K {ks}; seeds {seeds}; {len(runs)} finished runs"
             + (f", {len(failed)} failed" if failed else "") + ".", "",
             f"Values are mean ± sd over the runs in the `runs` column. **Bold**: best; *italic*: not significantly "
             f"different from the best (Welch's t-test, p ≥ 0.05). Coherence (C_V, NPMI) uses this corpus as the "
             f"reference; coherence and diversity (I-RBO, TD) use the top {top_words} words of every topic. "
             + ("Purity, NMI, ARI and P@k use the labels." if data.has_labels else
                "The data has no labels: no purity, NMI, ARI or P@k."), ""]
    if runs:
        lines += ["## All runs", "", *metric_table(runs, models, columns), ""]
        if len(ks) > 1:
            for k in ks:
                rk = [r for r in runs if r["k"] == k]
                if rk:
                    lines += [f"## K = {k}", "", *metric_table(rk, models, columns), ""]
        fewer = sorted({(r["model"], r["k"], r["n_topics_found"]) for r in runs
                        if r.get("n_topics_found", r["k"]) < r["k"]})
        if fewer:
            lines += ["Fewer topics than K (BERTopic's HDBSCAN may find fewer clusters): "
                      + "; ".join(f"{m} at K={k}: {n} topics" for m, k, n in fewer) + ".", ""]
        lines += ["## Topics (first seed, first K; up to 5 topics, 8 words each)", ""]
        for m in models:
            first = sorted((r for r in runs if r["model"] == m), key=lambda r: (r["k"], r["seed"]))
            if first:
                r = first[0]
                lines.append(f"- **{m}** (K={r['k']}, seed {r['seed']}): "
                             + "; ".join(" ".join(t[:8]) for t in r.get("topics", [])[:5]))
        lines += ["", "![metrics](plots/metrics.png)", ""] if plots else [""]
    if failed:
        lines += ["## Failed runs (retried by the next call)", ""]
        lines += [f"- {r['model']} K={r['k']} seed={r['seed']}: {r['error'].strip().splitlines()[-1][:300]}"
                  for r in failed]
        lines.append("")
    notes = {r["model"]: r["notes"] for r in runs if r.get("notes")}
    if notes:
        lines += ["## Notes per model", ""] + [f"- **{m}**: {n}" for m, n in notes.items()] + [""]
    markdown = "\n".join(lines)
    table = _summary(runs, models, ks, keys)
    atomic_write_text(out_dir / "comparison.md", markdown)
    atomic_write_text(out_dir / "comparison.csv",
                      table.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.4f"))
    return markdown, table


def compare(data, models: Sequence[str] = DEFAULT_MODELS, ks: Iterable[int] = (20,), seeds: int | Iterable[int] = 3,
            out_dir: str | os.PathLike = "dsl_compare", *, labels: Sequence | None = None,
            params: dict[str, dict] | None = None, top_words: int = 10, vocabulary_size: int = 2000,
            text_column: str | None = None, label_column: str | None = None, sample: int | None = None,
            plots: bool = True, progress: bool = True) -> Comparison:
    """Fit every model at every K and seed on ``data`` and write side-by-side tables, plots and runs.

    Args:
        data: an OCTIS folder, a ``.jsonl`` / ``.tsv`` / ``.csv`` / ``.txt`` file, a list of strings, an OCTIS
            ``Dataset`` or a named data set (module docstring).
        models: ``"DSL"`` and any of :data:`dsl_plugin.baselines.ALL_BASELINES`.
        ks: numbers of topics (or one number).
        seeds: a number of seeds (``3`` = seeds 0, 1, 2) or the seeds themselves.
        out_dir: where ``runs.jsonl``, ``comparison.md``, ``comparison.csv`` and ``plots/`` go (and ``work/``:
            the baselines' embedding cache and logs). Reusing it resumes.
        labels: labels of a list of texts (files bring their own ``label`` column / key).
        params: per-model settings, e.g. ``{"DSL": {"language_model": "gemma3-270m", "num_epochs": 50},
            "ProdLDA": {"num_epochs": 50}}`` (DSL: any :class:`dsl_plugin.DSL` argument but ``num_topics`` /
            ``seed``; baselines: :data:`dsl_plugin.baselines.OVERRIDES`).
        top_words: words per topic for the topics and the coherence / diversity metrics.
        vocabulary_size: |V| when ``data`` is text (an OCTIS folder keeps its vocabulary).
        text_column, label_column: column (TSV/CSV) or key (JSONL) names; default ``text`` (else the first
            column) and ``label``.
        sample: keep a fixed sample of this many documents (stratified when labelled) of text data.
        plots: draw ``plots/`` (metric bars, and topic words + document-topic pictures per model and K).
        progress: a progress bar over the runs (stderr) and one line per finished run (stdout).

    Returns:
        a :class:`Comparison` (``str()`` of it is the Markdown report).

    Raises:
        FileNotFoundError, ValueError, TypeError: bad ``data`` (named in the message).
        ValueError: unknown model, bad ``params``, ``ks`` or ``seeds``; ImportError: a model's optional package is
        missing (the message names the install command). All raised before any model is trained.
    """
    from tqdm.auto import tqdm

    models = [models] if isinstance(models, str) else list(models)
    if not models:
        raise ValueError("models is empty")
    ks = [int(ks)] if isinstance(ks, (int, np.integer)) else [int(k) for k in ks]
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be numbers of topics >= 1, got {ks}")
    seed_list = _seeds(seeds)
    if int(top_words) < 1:
        raise ValueError(f"top_words must be >= 1, got {top_words}")
    params = {m: dict(p) for m, p in (params or {}).items()}
    _check_models(models, params)
    data = load_corpus(data, labels, text_column=text_column, label_column=label_column,
                       vocabulary_size=vocabulary_size, sample=sample)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs_file, work, plot_dir = out_dir / "runs.jsonl", out_dir / "work", out_dir / "plots"
    labels_list = data.dataset.get_labels() if data.has_labels else None

    grid = [_cell(data.fingerprint, m, k, s, int(top_words), params.get(m, {})) for k in ks for s in seed_list
            for m in models]
    wanted = {_run_key(c) for c in grid}

    def current() -> tuple[list[dict], list[dict]]:
        recs = [r for r in load_runs(runs_file) if _run_key(r) in wanted]
        done = {_run_key(r): r for r in recs if "metrics" in r}  # the last finished record of each run
        failed = {_run_key(r): r for r in recs if "error" in r and _run_key(r) not in done}
        return list(done.values()), list(failed.values())

    done_keys = {_run_key(r) for r in current()[0]}
    todo = [c for c in grid if _run_key(c) not in done_keys]
    say = tqdm.write if progress else logger.info
    say(f"compare: {data.describe()}")
    say(f"compare: {len(grid)} runs ({len(models)} models x K {ks} x {len(seed_list)} seeds), "
        f"{len(grid) - len(todo)} already in {runs_file}, {len(todo)} to do")
    if any(c["model"] == DSL_NAME for c in todo):
        say(f"compare: DSL needs the teacher outputs of these {data.n_docs} documents: one LM pass in its first "
            "run unless they are already in the teacher cache; every later DSL run reads the cache")
    bar = tqdm(todo, desc="compare", unit="run", disable=not progress)
    for cell in bar:
        m, k, s = cell["model"], cell["k"], cell["seed"]
        bar.set_postfix_str(f"{m} K={k} seed={s}")
        t0 = time.time()
        try:
            out = _fit(m, data, k, s, cell["params"], int(top_words), work)
            fit_s = time.time() - t0
            res = evaluate(out, data.dataset, int(top_words))
        except Exception as err:  # one failing model must not stop the others; the next call retries it
            append_run({**cell, "data": data.name, "error": traceback.format_exc()[-3000:],
                        "finished": time.strftime("%Y-%m-%d %H:%M:%S")}, runs_file)
            say(f"{m} K={k} seed={s}: FAILED ({type(err).__name__}: {err})")
            continue
        rec = {**cell, "data": data.name, "metrics": res, "fit_seconds": round(fit_s, 1),
               "eval_seconds": round(time.time() - t0 - fit_s, 1), "n_docs": data.n_docs,
               "n_topics_found": len(out["topics"]), "topics": [list(t) for t in out["topics"]],
               "notes": out.get("notes", ""), **({"resolved": out["resolved"]} if "resolved" in out else {}),
               "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        append_run(rec, runs_file)
        shown = [x for x in ("c_v", "td", "purity", "p10") if x in res]
        say(f"{m} K={k} seed={s}: " + ", ".join(f"{METRIC_NAMES[x]} {res[x]:.3f}" for x in shown)
            + f" ({fit_s:.0f} s)")
        if plots and s == seed_list[0]:
            from .plots import save_model_plots

            save_model_plots(out, data.dataset.get_vocabulary(), plot_dir, f"{m}-K{k}", labels=labels_list,
                             top_n=min(int(top_words), 10))
        _report(out_dir, data, models, ks, seed_list, int(top_words), plots, *current())
    bar.close()
    runs, failed = current()
    markdown, table = _report(out_dir, data, models, ks, seed_list, int(top_words), plots, runs, failed)
    files = {"runs": runs_file, "markdown": out_dir / "comparison.md", "csv": out_dir / "comparison.csv"}
    if plots and runs:
        from .plots import metric_bars

        keys = [k for k in METRIC_NAMES if any(k in r["metrics"] for r in runs)]
        files["metrics_plot"] = plot_dir / "metrics.png"
        metric_bars(runs, [m for m in models if any(r["model"] == m for r in runs)],
                    [(k, METRIC_NAMES[k]) for k in keys], path=files["metrics_plot"],
                    title=f"{data.name}: mean ± sd over K {ks} and seeds {seed_list}")
    return Comparison(out_dir, data, models, runs, failed, table, markdown, files)
