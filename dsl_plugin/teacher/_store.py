"""Cache access for the teacher: which entry a (config, documents, vocabulary) triple maps to, and
reading an entry back in the caller's document order."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..cache import CacheEntry, default_cache_dir, make_key
from ._config import TeacherConfig


def unique_documents(documents: Sequence[str], vocabulary: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Validate a teacher call and deduplicate its documents.

    Returns:
        (unique, inverse): the distinct documents in order of first occurrence (the order a cache entry
        is keyed and sharded by) and, for each input document, its index in ``unique``.

    Raises:
        ValueError: empty corpus, all-empty documents, empty vocabulary.
    """
    if len(documents) == 0:
        raise ValueError("empty corpus: no documents were given to the teacher")
    if all(not d.strip() for d in documents):
        raise ValueError("all documents are empty (only whitespace)")
    if len(vocabulary) == 0:
        raise ValueError("empty vocabulary")
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(d, len(first)) for d in documents), dtype=np.int64,
                          count=len(documents))
    return list(first), inverse


def open_entry(config: TeacherConfig, documents: Sequence[str], vocabulary: Sequence[str],
               cache_dir: str | None = None, shard_size: int = 256) -> CacheEntry:
    """The cache entry of ``config`` over ``documents`` (unique, in order) and ``vocabulary``."""
    ident = config.identity(vocabulary)
    key = make_key(ident, documents)
    root = Path(cache_dir) if cache_dir else default_cache_dir() / "teacher"
    small_ident = {k: v for k, v in ident.items() if k != "vocabulary"} | {"vocabulary_size": len(vocabulary)}
    return CacheEntry(root, key, len(documents), shard_size, identity=small_ident)


def is_identity(inverse: np.ndarray) -> bool:
    return bool(np.array_equal(inverse, np.arange(len(inverse))))


def gather(entry: CacheEntry, which: str, inverse: np.ndarray) -> np.ndarray:
    """``entry.read(which)[inverse]`` without materialising the concatenation (peak: result + one shard).

    Raises:
        RuntimeError: if a shard is missing.
    """
    out = None
    identity = is_identity(inverse)
    order = np.argsort(inverse, kind="stable")
    sorted_inv = inverse[order]
    for i in range(entry.n_shards):
        start, stop = entry.shard_range(i)
        part = entry.load_shard(i, which)
        if out is None:
            out = np.empty((len(inverse), part.shape[1]), np.float32)
        if identity:
            out[start:stop] = part
        else:
            lo, hi = np.searchsorted(sorted_inv, [start, stop])
            rows = order[lo:hi]
            out[rows] = part[sorted_inv[lo:hi] - start]
        del part
    return out
