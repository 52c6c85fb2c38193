"""``SoftLabelTeacher``: a prompted causal LM -> restricted next-token logits + hidden states, cached.

For each document the teacher builds the labeling prompt, runs the LM once and keeps

* the next-token logits after the prompt, **restricted to the topic vocabulary** (each word maps to
  the first sub-token of ``" " + word``), stored raw so the temperature can be tuned later, and
* a hidden state of the prompt (by default the final layer's, at the last prompt token): the
  student's input.

It is a composition of small parts: a :class:`TeacherConfig` (what is computed, and the cache
identity), a :class:`PromptEncoder` (document -> prompt ids; words -> token ids), an
:class:`LMRunner` (the loaded LM, batching, prefix reuse, forward passes) and the content-keyed cache
(:mod:`dsl_plugin.cache`, entries opened by :mod:`._store`). Duplicate documents are computed once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..cache import CacheEntry
from ._config import DEFAULT_TEMPERATURE, TeacherConfig
from ._prompts import PromptEncoder
from ._runner import LMRunner
from ._store import ShardFiles, gather, is_identity, open_entry, unique_documents

logger = logging.getLogger(__name__)


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax(logits / temperature) in float32."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = np.asarray(logits, dtype=np.float32) / np.float32(temperature)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


@dataclass
class TeacherOutputs:
    """Teacher outputs for N documents, in the caller's order."""

    logits: np.ndarray
    hidden: np.ndarray
    n_computed: int = 0
    cache_path: str | None = None

    def __post_init__(self) -> None:
        if len(self.logits) != len(self.hidden):
            raise ValueError(f"teacher outputs disagree: {len(self.logits)} logit rows, {len(self.hidden)} hidden rows")

    def __len__(self) -> int:
        return len(self.logits)

    def take(self, idx) -> "TeacherOutputs":
        """The outputs of rows ``idx`` (same cache path)."""
        return TeacherOutputs(logits=self.logits[idx], hidden=self.hidden[idx], n_computed=self.n_computed,
                              cache_path=self.cache_path)

    # the row interface shared with CachedTeacherOutputs (what a streamed fit reads)
    def width(self, which: str) -> int:
        """Columns of ``"logits"`` (|V|) or ``"hidden"`` (H)."""
        return int(_array(self, which).shape[1])

    def read(self, which: str, idx) -> np.ndarray:
        """Rows ``idx`` of ``"logits"`` or ``"hidden"`` as float32."""
        return np.asarray(_array(self, which)[idx], dtype=np.float32)

    def to_memory(self) -> "TeacherOutputs":
        return self

    @property
    def in_memory(self) -> bool:
        return True


class CachedTeacherOutputs:
    """Teacher outputs left in the cache: rows are read from the shard files on demand, never all at once.

    Returned by ``SoftLabelTeacher.compute(..., lazy=True)``. It has the row interface of
    :class:`TeacherOutputs` (``len``, :meth:`width`, :meth:`read`, :meth:`take`); :meth:`to_memory` loads
    everything (the :class:`TeacherOutputs` that ``compute`` returns). Reads convert float16 entries to float32.
    """

    in_memory = False

    def __init__(self, files: ShardFiles, inverse: np.ndarray, n_computed: int = 0, cache_path: str | None = None):
        self.files = files
        self.inverse = np.asarray(inverse, dtype=np.int64)
        self.n_computed = n_computed
        self.cache_path = cache_path

    def __len__(self) -> int:
        return len(self.inverse)

    def width(self, which: str) -> int:
        return self.files.layout(0, which)[3]

    def read(self, which: str, idx) -> np.ndarray:
        return self.files.read(which, self.inverse[idx]).astype(np.float32, copy=False)

    def take(self, idx) -> "CachedTeacherOutputs":
        return CachedTeacherOutputs(self.files, self.inverse[idx], self.n_computed, self.cache_path)

    def to_memory(self) -> TeacherOutputs:
        entry = self.files.entry
        return TeacherOutputs(logits=gather(entry, "logits", self.inverse),
                              hidden=gather(entry, "hidden", self.inverse), n_computed=self.n_computed,
                              cache_path=self.cache_path)

    def __repr__(self) -> str:
        return f"CachedTeacherOutputs({len(self)} rows, cache entry {self.cache_path})"


def _array(out: TeacherOutputs, which: str) -> np.ndarray:
    if which not in ("logits", "hidden"):
        raise ValueError(f"which must be 'logits' or 'hidden', got {which!r}")
    return out.logits if which == "logits" else out.hidden


class SoftLabelTeacher:
    """Prompted LM teacher with a persistent, resumable cache.

    Args:
        config: a :class:`TeacherConfig` (what is computed). Its fields may also be given as keyword
            arguments (``model=``, ``prompt_template=``, ``max_doc_tokens=``, ``word_scoring=``,
            ``pooling=``, ...), which override ``config``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        num_threads: torch intra-op threads on CPU (None: leave torch's setting).
        cache_dir: cache root (default ``$DSL_PLUGIN_CACHE/teacher`` or ``~/.cache/dsl_plugin/teacher``).
        use_cache: False disables the disk cache.
        shard_size: documents per cache shard.
        show_progress: tqdm progress bar.
        max_batch_tokens: token budget of one padded batch (length-sorted batches); None: 4096 on CPU,
            on CUDA derived from the free GPU memory once the LM is loaded.
        max_batch_size: upper bound on documents per batch; None: 128 on CPU, 1024 on CUDA.
        prefix_cache: run the prompt prefix shared by all documents once and reuse its key/value cache
            (exact up to float32 rounding; falls back to full prompts when a model does not support it).
        compile: ``torch.compile`` the transformer (minutes of one-off compilation; opt-in).
    """

    #: process-wide count of LM forward passes (all teachers)
    total_forward_passes = 0

    def __init__(self, config: TeacherConfig | None = None, *, device: str = "auto", num_threads: int | None = None,
                 cache_dir: str | None = None, use_cache: bool = True, shard_size: int = 256,
                 show_progress: bool = True, max_batch_tokens: int | None = None, max_batch_size: int | None = None,
                 prefix_cache: bool = True, compile: bool = False, **config_fields):
        unknown = sorted(set(config_fields) - set(TeacherConfig.field_names()))
        if unknown:
            raise TypeError(f"unknown SoftLabelTeacher argument(s) {unknown}; teacher settings are "
                            f"{list(TeacherConfig.field_names())}")
        config = config or TeacherConfig()
        self.config = config.replace(**config_fields) if config_fields else config
        if any(v is not None and int(v) < 1 for v in (max_batch_tokens, max_batch_size)):
            raise ValueError("max_batch_tokens and max_batch_size must be >= 1 (or None: the device's default)")
        if int(shard_size) < 1:
            raise ValueError(f"shard_size must be >= 1, got {shard_size}")
        self.cache_dir = None if cache_dir is None else str(cache_dir)
        self.use_cache = bool(use_cache)
        self.shard_size = int(shard_size)
        self.show_progress = bool(show_progress)
        self.runner = LMRunner(self.config, device=device, num_threads=num_threads,
                               max_batch_tokens=_opt_int(max_batch_tokens), max_batch_size=_opt_int(max_batch_size),
                               prefix_cache=bool(prefix_cache), compile=bool(compile))
        self.n_documents_computed = 0

    # ------------------------------------------------------------------ settings (read-only views)
    @property
    def model(self) -> str:
        return self.config.model

    @property
    def prompt_template(self) -> str:
        return self.config.prompt_template

    @property
    def max_doc_tokens(self) -> int:
        return self.config.max_doc_tokens

    @property
    def word_scoring(self) -> str:
        return self.config.word_scoring

    @property
    def device(self) -> str:
        return self.runner.device

    @property
    def prefix_cache(self) -> bool:
        return self.runner.prefix_cache

    # ------------------------------------------------------------------ counters
    @property
    def n_forward_passes(self) -> int:
        return self.runner.n_forward_passes

    @property
    def n_tokens_computed(self) -> int:
        return self.runner.n_tokens_computed

    @property
    def n_tokens_padded(self) -> int:
        return self.runner.n_tokens_padded

    def reset_counters(self) -> None:
        self.runner.n_forward_passes = self.runner.n_tokens_computed = self.runner.n_tokens_padded = 0
        self.n_documents_computed = 0

    # ------------------------------------------------------------------ model
    def load(self) -> None:
        """Load tokenizer and LM (done lazily: a fully cached call never loads the LM)."""
        self.runner.load()

    def share_model(self, other: "SoftLabelTeacher") -> None:
        """Use ``other``'s loaded LM (loading it there first) instead of loading a second copy."""
        other.load()
        self.runner.attach(other.runner.tokenizer, other.runner.model)

    @property
    def lm(self):
        """The loaded causal LM, or None before the first LM pass."""
        return self.runner.model

    @property
    def tokenizer(self):
        self.load()
        return self.runner.tokenizer

    @property
    def encoder(self) -> PromptEncoder:
        self.load()
        return self.runner.encoder

    def build_prompt_ids(self, document: str) -> list[int]:
        """Token ids of the prompt for one document, truncating inside the document slot."""
        return self.encoder.encode(document)

    def prompt_prefix_ids(self) -> list[int]:
        """Token ids that begin every prompt (BOS + instruction up to the document slot)."""
        return self.encoder.prefix_ids()

    def vocabulary_token_ids(self, vocabulary: Sequence[str]) -> tuple[np.ndarray, dict[int, list[str]]]:
        """First sub-token id of ``" " + word`` for each word, and the collisions (see :class:`PromptEncoder`)."""
        return self.encoder.vocabulary_token_ids(vocabulary)

    def multi_token_words(self, vocabulary: Sequence[str]) -> tuple[np.ndarray, list[list[int]]]:
        """Indices of the words that ``" " + word`` splits into 2+ tokens, and their token ids."""
        return self.encoder.multi_token_words(vocabulary)

    def input_word_embeddings(self, vocabulary: Sequence[str]) -> np.ndarray:
        """The LM's own input embeddings of the words (V x embedding width, float32): for each word the mean of the
        embedding rows of the tokens of ``" " + word`` (zeros for a blank word). Loads the LM; runs no forward
        pass (``n_forward_passes`` is unchanged). DSL's ETM / ECRTM backbones use them as word vectors."""
        import torch

        tokens = self.encoder.word_tokens(vocabulary)  # loads the LM
        with torch.no_grad():
            table = self.runner.model.get_input_embeddings().weight
            out = np.zeros((len(tokens), table.shape[1]), dtype=np.float32)
            for i, ids in enumerate(tokens):
                if ids:
                    out[i] = table[torch.as_tensor(ids, device=table.device)].float().mean(0).cpu().numpy()
        return out

    # ------------------------------------------------------------------ identity / cache
    def identity(self, vocabulary: Sequence[str]) -> dict:
        """Everything the cached outputs depend on, except the documents."""
        return self.config.identity(vocabulary)

    def cache_entry(self, documents: Sequence[str], vocabulary: Sequence[str]) -> CacheEntry | None:
        """The cache entry for these (unique, ordered) documents, or None without caching."""
        if not self.use_cache:
            return None
        return open_entry(self.config, documents, vocabulary, self.cache_dir, self.shard_size)

    def is_cached(self, documents: Sequence[str], vocabulary: Sequence[str]) -> bool:
        """Whether :meth:`compute` would run no LM pass for these documents (shards present; not verified)."""
        entry = self.cache_entry(list(dict.fromkeys(documents)), vocabulary)
        return entry is not None and not entry.missing_shards(verify=False)

    # ------------------------------------------------------------------ compute
    def _word_inputs(self, vocabulary: Sequence[str]):
        """(vocabulary token ids, full-word groups or None) for the LM passes; loads the LM."""
        self.load()
        vocab_ids, _ = self.vocabulary_token_ids(vocabulary)
        words = (self.runner.word_groups(vocabulary) or None) if self.word_scoring == "full_word" else None
        return vocab_ids, words

    def write_shards(self, entry: CacheEntry, shards: Iterable[tuple[int, Sequence[str]]],
                     vocabulary: Sequence[str], progress=None) -> int:
        """Compute cache shards and commit each to ``entry`` as soon as it is done.

        Args:
            entry: the cache entry (see :meth:`cache_entry`); it may live in another process's cache dir.
            shards: (shard index, the shard's documents, i.e. ``unique[slice(*entry.shard_range(i))]``) pairs.
            vocabulary: the entry's vocabulary.
            progress: optional tqdm-like bar, advanced by documents.

        Returns:
            the number of documents computed. This is the unit of work of the distributed teacher
            (:func:`~dsl_plugin.teacher.compute_on_ray`): a process that dies loses only the shard it was on.
        """
        vocab_ids = words = None
        n = 0
        for i, docs in shards:
            if vocab_ids is None:
                vocab_ids, words = self._word_inputs(vocabulary)
            lg, hd = self._compute_block(docs, vocab_ids, progress, words)
            entry.write_shard(i, lg, hd)
            n += len(docs)
        return n

    def _compute_block(self, docs: Sequence[str], vocab_ids, progress=None, words=None):
        before = self.runner.n_forward_passes
        try:
            out = self.runner.compute_block(docs, vocab_ids, progress, words)
        finally:
            SoftLabelTeacher.total_forward_passes += self.runner.n_forward_passes - before
        self.n_documents_computed += len(docs)
        return out

    def compute(self, documents: Sequence[str], vocabulary: Sequence[str],
                lazy: bool = False) -> TeacherOutputs | CachedTeacherOutputs:
        """Teacher outputs for ``documents`` (cached; duplicates computed once).

        Args:
            lazy: with the cache, return :class:`CachedTeacherOutputs` (the missing shards are computed, then
                rows are read on demand) instead of loading N x (|V| + H) floats into memory. Without the cache
                the outputs are in memory anyway.

        Raises:
            ValueError: empty corpus, all-empty documents, empty vocabulary, unmappable words.
        """
        unique, inverse = unique_documents(documents, vocabulary)
        entry = self.cache_entry(unique, vocabulary)
        todo = entry.missing_shards() if entry is not None else [0]
        n_todo = (sum(entry.shard_range(i)[1] - entry.shard_range(i)[0] for i in todo) if entry is not None
                  else len(unique))
        logger.info("teacher %s: %d documents (%d unique), %d to compute with the LM, %d from cache",
                    self.model, len(documents), len(unique), n_todo, len(unique) - n_todo)
        computed = 0
        if n_todo:
            from tqdm.auto import tqdm

            with tqdm(total=n_todo, desc=f"teacher {self.model}", unit="doc", disable=not self.show_progress) as bar:
                if entry is None:
                    vocab_ids, words = self._word_inputs(vocabulary)
                    logits, hidden = self._compute_block(unique, vocab_ids, bar, words)
                else:
                    self.write_shards(entry, ((i, unique[slice(*entry.shard_range(i))]) for i in todo), vocabulary,
                                      bar)
            computed = n_todo
        if entry is not None and lazy:
            return CachedTeacherOutputs(ShardFiles(entry), inverse, computed, str(entry.path))
        if entry is not None:  # stream the shards into the caller's arrays: one copy, no concatenation
            logits, hidden = gather(entry, "logits", inverse), gather(entry, "hidden", inverse)
        elif not is_identity(inverse):
            logits, hidden = logits[inverse], hidden[inverse]
        return TeacherOutputs(logits=np.asarray(logits, dtype=np.float32), hidden=np.asarray(hidden, dtype=np.float32),
                              n_computed=computed, cache_path=None if entry is None else str(entry.path))

    def __repr__(self) -> str:
        return f"SoftLabelTeacher({self.config!r}, device={self.device!r}, cache_dir={self.cache_dir!r})"


def _opt_int(value) -> int | None:
    return None if value is None else int(value)


__all__ = ["CachedTeacherOutputs", "DEFAULT_TEMPERATURE", "SoftLabelTeacher", "TeacherOutputs",
           "softmax_with_temperature"]
