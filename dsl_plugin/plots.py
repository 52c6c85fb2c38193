"""Pictures of a topic model and of a comparison (matplotlib, no display needed).

* :func:`topic_words`: one bar chart of top words per topic (largest topics first when ``theta`` is given);
* :func:`document_topics`: topic sizes (documents per topic) over a document-topic heatmap, documents grouped
  by label when labels are given;
* :func:`metric_bars`: one panel per metric, mean ± sd over runs for every model (what ``compare`` draws);
* :func:`save_model_plots`: the first two for an OCTIS-style model output, written as PNG files.

Every function builds a :class:`matplotlib.figure.Figure` without pyplot (so it works headless, whatever the
backend) and returns it; with ``path`` it is also written there (PNG, or any format matplotlib knows by suffix).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

DSL_COLOR, OTHER_COLOR = "tab:blue", "tab:gray"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig, path: str | os.PathLike | None, dpi: int = 110):
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    return fig


def _word_weights(topic_word) -> tuple[np.ndarray, str]:
    """Rows to draw and their axis label: L1-normalised when non-negative (probabilities, c-TF-IDF), else
    unchanged (decoder weights of ProdLDA-style models, whose softmax over the vocabulary is nearly flat)."""
    twm = np.nan_to_num(np.asarray(topic_word, dtype=np.float64))
    if twm.ndim != 2 or 0 in twm.shape:
        raise ValueError(f"topic_word must be a non-empty topics x words matrix, got shape {twm.shape}")
    if (twm < 0).any():
        return twm, "decoder weight"
    sums = twm.sum(axis=1, keepdims=True)
    return np.divide(twm, sums, out=np.zeros_like(twm), where=sums > 0), "p(word | topic)"


def _as_doc_topic(theta) -> np.ndarray:
    arr = np.asarray(theta, dtype=np.float64)
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"theta must be a non-empty documents x topics matrix, got shape {arr.shape}")
    return arr


def topic_words(topic_word, vocabulary: Sequence[str], *, top_n: int = 10, theta=None,
                topics: Sequence[int] | None = None, max_topics: int = 12, columns: int = 4,
                title: str | None = None, path: str | os.PathLike | None = None):
    """Bar charts of each topic's top words.

    Args:
        topic_word: K x V topic-word matrix (probabilities or c-TF-IDF: rows L1-normalised; decoder weights of
            ProdLDA-style models such as DSL, with negative entries: drawn as they are).
        vocabulary: the V words, in column order.
        top_n: words per topic.
        theta: optional N x K document-topic matrix: topics are then ordered by size (documents whose
            largest share is that topic) and each panel says its share.
        topics: topic indices to draw (default: all, largest first when ``theta`` is given).
        max_topics: at most this many panels (the first ones of ``topics``).
        columns: panels per row.
        title: figure title.
        path: where to save the figure (optional).

    Returns:
        The matplotlib ``Figure``.
    """
    weights, xlabel = _word_weights(topic_word)
    k, v = weights.shape
    if v != len(vocabulary):
        raise ValueError(f"topic_word has {v} columns but the vocabulary has {len(vocabulary)} words")
    share = None
    if theta is not None:
        th = _as_doc_topic(theta)
        if th.shape[1] != k:
            raise ValueError(f"theta has {th.shape[1]} topics, topic_word has {k}")
        share = np.bincount(th.argmax(axis=1), minlength=k) / th.shape[0]
    if topics is None:
        topics = list(np.argsort(-share, kind="stable")) if share is not None else list(range(k))
    topics = [int(t) for t in topics][:max_topics]
    if not topics:
        raise ValueError("no topic to draw")
    bad = [t for t in topics if not 0 <= t < k]
    if bad:
        raise ValueError(f"topic index {bad[0]} out of range: the model has {k} topics")
    cols = min(columns, len(topics))
    rows = math.ceil(len(topics) / cols)
    fig = _figure(3.0 * cols, 0.22 * top_n * rows + 0.9 * rows + (0.4 if title else 0))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, t in zip(axes, topics):
        order = np.argsort(-weights[t], kind="stable")[:top_n]
        ax.barh(np.arange(len(order)), weights[t, order], color=DSL_COLOR)
        ax.set_yticks(np.arange(len(order)), [vocabulary[j] for j in order], fontsize=8)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"topic {t}" + (f" ({share[t]:.0%} of docs)" if share is not None else ""), fontsize=9)
    for ax in axes[len(topics):]:
        ax.set_visible(False)
    fig.supxlabel(xlabel, fontsize=9)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def document_topics(theta, labels: Sequence | None = None, *, max_docs: int = 2000, title: str | None = None,
                    path: str | os.PathLike | None = None):
    """Topic sizes (documents per topic, by largest share) above a documents x topics heatmap of theta.

    Documents are sorted by label (when ``labels`` are given; group names on the left), then by their main
    topic, so that a label that one topic captures shows as one bright block. With more than ``max_docs``
    documents an evenly spaced subset of the sorted rows is drawn (the sizes use every document).
    """
    th = _as_doc_topic(theta)
    n, k = th.shape
    main = th.argmax(axis=1)
    if labels is not None and len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} documents")
    lab = [str(x) for x in labels] if labels is not None else [""] * n
    order = sorted(range(n), key=lambda i: (lab[i], main[i], -th[i, main[i]]))
    if n > max_docs:
        order = [order[int(j)] for j in np.linspace(0, n - 1, max_docs)]
    fig = _figure(max(6.0, 0.25 * k + 3.5), 7.0)
    ax_top, ax_map = fig.subplots(2, 1, sharex=True, height_ratios=[1, 4])
    sizes = np.bincount(main, minlength=k)
    ax_top.bar(np.arange(k), sizes, color=DSL_COLOR)
    ax_top.set_ylabel("documents")
    ax_top.set_title("topic sizes (documents whose largest share is the topic)", fontsize=9)
    im = ax_map.imshow(th[order], aspect="auto", interpolation="nearest", cmap="viridis", vmin=0,
                       extent=(-0.5, k - 0.5, len(order), 0))
    ax_map.set_xlabel("topic")
    ax_map.set_xticks(np.arange(k) if k <= 30 else np.arange(0, k, max(1, k // 15)))
    if labels is not None:
        names = [lab[i] for i in order]
        starts = [i for i in range(len(names)) if i == 0 or names[i] != names[i - 1]]
        ends = starts[1:] + [len(names)]
        ax_map.set_yticks([(a + b) / 2 for a, b in zip(starts, ends)], [names[a] for a in starts], fontsize=7)
        for a in starts[1:]:
            ax_map.axhline(a, color="white", linewidth=0.6)
    else:
        ax_map.set_ylabel("documents (sorted by main topic)")
    fig.colorbar(im, ax=[ax_top, ax_map], label="topic share", shrink=0.6)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def metric_bars(runs: Sequence[dict], models: Sequence[str], metrics: Sequence[tuple[str, str]], *,
                title: str | None = None, path: str | os.PathLike | None = None, columns: int = 4,
                highlight: Callable[[str], bool] = lambda m: m.startswith("DSL")):
    """One horizontal bar panel per metric: mean ± sample sd over the runs of each model.

    Args:
        runs: records with ``model`` and a ``metrics`` dict (``runs.jsonl`` lines).
        models: row order (models without a value for a metric get no bar).
        metrics: (key in ``metrics``, panel title) pairs.
        columns: panels per row.
        highlight: models drawn in blue (default: DSL and its variants), the others in grey.
    """
    if not metrics:
        raise ValueError("no metric to draw")
    cols = min(columns, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig = _figure(3.6 * cols, (0.32 * len(models) + 1.0) * rows + (0.4 if title else 0))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
    y = np.arange(len(models))
    for ax, (key, name) in zip(axes, metrics):
        vals = [[r["metrics"][key] for r in runs if r["model"] == m and r["metrics"].get(key) is not None]
                for m in models]
        means = [np.mean(v) if v else np.nan for v in vals]
        sds = [np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in vals]
        ax.barh(y, means, xerr=sds, color=[DSL_COLOR if highlight(m) else OTHER_COLOR for m in models])
        ax.set_title(name)
        ax.set_yticks(y, models)
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()  # shared y: once for all panels
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def save_model_plots(output: dict, vocabulary: Sequence[str], folder: str | os.PathLike, name: str,
                     labels: Sequence | None = None, top_n: int = 10, max_topics: int = 12) -> dict[str, Path]:
    """Write ``<name>-topics.png`` (:func:`topic_words`) and ``<name>-documents.png`` (:func:`document_topics`)
    for an OCTIS-style output (``topic-word-matrix`` K x V, ``topic-document-matrix`` K x N).

    Returns:
        {"topics": path, "documents": path}.
    """
    folder = Path(folder)
    theta = np.asarray(output["topic-document-matrix"]).T
    paths = {"topics": folder / f"{name}-topics.png", "documents": folder / f"{name}-documents.png"}
    topic_words(output["topic-word-matrix"], vocabulary, top_n=top_n, theta=theta, max_topics=max_topics,
                title=f"{name}: top words (largest topics first)", path=paths["topics"])
    document_topics(theta, labels=labels if labels is not None and len(labels) else None,
                    title=f"{name}: document-topic proportions", path=paths["documents"])
    return paths
