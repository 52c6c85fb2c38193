"""The soft-label teacher: a prompted causal LM -> restricted next-token logits + hidden states.

For each document the teacher builds the labeling prompt, runs the LM once and keeps

* the next-token logits after the prompt, **restricted to the topic vocabulary** (each word maps to
  the first sub-token of ``" " + word``), stored raw so the temperature can be tuned later, and
* the final-layer hidden state of the last prompt token (the student's input).

Only the last position's hidden state goes through the LM head, and only for vocabulary tokens.
Outputs are cached (:mod:`dsl_plugin.cache`) per (model, prompt, vocabulary, max tokens,
documents); duplicate documents are computed once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .cache import CacheEntry, default_cache_dir, make_key
from .lm import DEFAULT_LM, load_language_model, model_identity

logger = logging.getLogger(__name__)

DEFAULT_PROMPT = ("Generate a label that capture the overall theme of the document below.\n\n"
                  "Document: {document}\n\nTopic:")


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when available, else ``"cpu"``."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax(logits / temperature) in float32."""
    if temperature <= 0:
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

    def soft_labels(self, temperature: float = 3.0) -> np.ndarray:
        """softmax(restricted logits / temperature), shape (N, |V|)."""
        return softmax_with_temperature(self.logits, temperature)


@dataclass
class SoftLabelTeacher:
    """Prompted LM teacher with a persistent, resumable cache.

    Args:
        model: packaged alias (see :data:`dsl_plugin.lm.PACKAGED_LMS`), local path or HF model id.
        prompt_template: must contain ``{document}`` exactly once; trailing whitespace is stripped.
        max_doc_tokens: documents longer than this (in LM tokens) are truncated inside the document
            slot, so the instruction and the suffix always survive.
        max_batch_tokens: token budget of one padded batch (length-sorted batches).
        max_batch_size: upper bound on documents per batch.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        num_threads: torch intra-op threads on CPU (None: leave torch's setting).
        cache_dir: cache root (default ``$DSL_PLUGIN_CACHE`` or ``~/.cache/dsl_plugin``); None/False
            with ``use_cache=False`` disables caching.
        shard_size: documents per cache shard.
        show_progress: tqdm progress bar.
    """

    model: str = DEFAULT_LM
    prompt_template: str = DEFAULT_PROMPT
    max_doc_tokens: int = 128
    max_batch_tokens: int = 4096
    max_batch_size: int = 32
    device: str = "auto"
    num_threads: int | None = None
    cache_dir: str | None = None
    use_cache: bool = True
    shard_size: int = 256
    show_progress: bool = True
    revision: str | None = None
    n_forward_passes: int = field(default=0, init=False)
    n_documents_computed: int = field(default=0, init=False)
    _tok: object = field(default=None, init=False, repr=False)
    _lm: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.prompt_template.count("{document}") != 1:
            raise ValueError("prompt_template must contain '{document}' exactly once")
        if self.max_doc_tokens < 1:
            raise ValueError(f"max_doc_tokens must be >= 1, got {self.max_doc_tokens}")

    # ------------------------------------------------------------------ model
    def load(self) -> None:
        """Load tokenizer and LM (done lazily: a fully cached call never loads the LM)."""
        if self._lm is not None:
            return
        import torch

        if self.num_threads:
            torch.set_num_threads(int(self.num_threads))
        tok, lm = load_language_model(self.model, device=resolve_device(self.device), revision=self.revision)
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        self._tok, self._lm = tok, lm

    @property
    def tokenizer(self):
        self.load()
        return self._tok

    def vocabulary_token_ids(self, vocabulary: Sequence[str]) -> tuple[np.ndarray, dict[int, list[str]]]:
        """First sub-token id of ``" " + word`` for each word, and the collisions.

        Returns:
            (ids, collisions) where collisions maps a token id to the 2+ words sharing it.

        Raises:
            ValueError: naming the words that map to no token (or only to the unknown token).
        """
        tok = self.tokenizer
        ids, bad = [], []
        for w in vocabulary:
            t = tok(" " + w, add_special_tokens=False)["input_ids"] if w.strip() else []
            if not t or (tok.unk_token_id is not None and t[0] == tok.unk_token_id):
                bad.append(w)
                ids.append(-1)
            else:
                ids.append(t[0])
        if bad:
            raise ValueError(f"{len(bad)} vocabulary word(s) map to no token of {self.model!r}: {bad[:10]!r}")
        groups: dict[int, list[str]] = {}
        for w, i in zip(vocabulary, ids):
            groups.setdefault(i, []).append(w)
        collisions = {i: ws for i, ws in groups.items() if len(ws) > 1}
        if collisions:
            n = sum(len(ws) for ws in collisions.values())
            ex = list(collisions.values())[:3]
            logger.warning("%d vocabulary words share their first sub-token with another word (%d tokens), "
                           "e.g. %s: they receive identical teacher logits", n, len(collisions), ex)
        return np.asarray(ids, dtype=np.int64), collisions

    def build_prompt_ids(self, document: str) -> list[int]:
        """Token ids of the prompt for one document, truncating inside the document slot."""
        tok = self.tokenizer
        doc = document.strip()
        enc = tok(doc, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) > self.max_doc_tokens:
            doc = doc[: enc["offset_mapping"][self.max_doc_tokens - 1][1]]
        prefix, suffix = self.prompt_template.split("{document}")
        return tok((prefix + doc + suffix).rstrip())["input_ids"]

    # ------------------------------------------------------------------ identity / cache
    def identity(self, vocabulary: Sequence[str]) -> dict:
        """Everything the cached outputs depend on, except the documents."""
        return {**model_identity(self.model, self.revision), "prompt": self.prompt_template,
                "max_doc_tokens": self.max_doc_tokens, "vocabulary": list(vocabulary), "dtype": "float32"}

    def _entry(self, documents: Sequence[str], vocabulary: Sequence[str]) -> CacheEntry | None:
        if not self.use_cache:
            return None
        ident = self.identity(vocabulary)
        key = make_key(ident, documents)
        root = self.cache_dir or default_cache_dir() / "teacher"
        small_ident = {k: v for k, v in ident.items() if k != "vocabulary"} | {"vocabulary_size": len(vocabulary)}
        return CacheEntry(root, key, len(documents), self.shard_size, identity=small_ident)

    # ------------------------------------------------------------------ compute
    def _forward(self, batch_ids: list[list[int]], vocab_ids) -> tuple[np.ndarray, np.ndarray]:
        import torch

        lm, tok = self._lm, self._tok
        dev = next(lm.parameters()).device
        width = max(len(x) for x in batch_ids)
        ids = torch.full((len(batch_ids), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
        for r, x in enumerate(batch_ids):
            ids[r, width - len(x):] = torch.tensor(x)
            mask[r, width - len(x):] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        base = getattr(lm, lm.base_model_prefix)
        out = base(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev), use_cache=False)
        h = out.last_hidden_state[:, -1, :].float()
        head = lm.get_output_embeddings()
        w = head.weight[vocab_ids].float()
        logits = h @ w.T
        if getattr(head, "bias", None) is not None:
            logits = logits + head.bias[vocab_ids].float()
        cap = getattr(lm.config, "final_logit_softcapping", None)
        if cap:
            logits = cap * torch.tanh(logits / cap)
        self.n_forward_passes += 1
        SoftLabelTeacher.total_forward_passes += 1
        return logits.cpu().numpy(), h.cpu().numpy()

    def _batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Length-sorted batches under the token budget (indices into ``lengths``)."""
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        batches, cur, width = [], [], 0
        for i in order:
            w = max(width, lengths[i])
            if cur and ((len(cur) + 1) * w > self.max_batch_tokens or len(cur) >= self.max_batch_size):
                batches.append(cur)
                cur, w = [], lengths[i]
            cur.append(i)
            width = w
        if cur:
            batches.append(cur)
        return batches

    def _compute_block(self, docs: Sequence[str], vocab_ids, progress=None) -> tuple[np.ndarray, np.ndarray]:
        import torch

        prompts = [self.build_prompt_ids(d) for d in docs]
        lengths = [len(p) for p in prompts]
        logits = hidden = None
        with torch.inference_mode():
            for batch in self._batches(lengths):
                lg, hd = self._forward([prompts[i] for i in batch], vocab_ids)
                if logits is None:
                    logits = np.empty((len(docs), lg.shape[1]), np.float32)
                    hidden = np.empty((len(docs), hd.shape[1]), np.float32)
                logits[batch], hidden[batch] = lg, hd
                if progress is not None:
                    progress.update(len(batch))
        self.n_documents_computed += len(docs)
        return logits, hidden

    def compute(self, documents: Sequence[str], vocabulary: Sequence[str]) -> TeacherOutputs:
        """Teacher outputs for ``documents`` (cached; duplicates computed once).

        Raises:
            ValueError: empty corpus, all-empty documents, empty vocabulary, unmappable words.
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
        unique = list(first)
        entry = self._entry(unique, vocabulary)
        todo = entry.missing_shards() if entry is not None else [0]
        n_todo = (sum(entry.shard_range(i)[1] - entry.shard_range(i)[0] for i in todo) if entry is not None
                  else len(unique))
        logger.info("teacher %s: %d documents (%d unique), %d to compute with the LM, %d from cache",
                    self.model, len(documents), len(unique), n_todo, len(unique) - n_todo)
        computed = 0
        if n_todo:
            from tqdm.auto import tqdm

            self.load()
            vocab_ids, _ = self.vocabulary_token_ids(vocabulary)
            with tqdm(total=n_todo, desc=f"teacher {self.model}", unit="doc", disable=not self.show_progress) as bar:
                if entry is None:
                    logits, hidden = self._compute_block(unique, vocab_ids, bar)
                else:
                    for i in todo:
                        start, stop = entry.shard_range(i)
                        lg, hd = self._compute_block(unique[start:stop], vocab_ids, bar)
                        entry.write_shard(i, lg, hd)
            computed = n_todo
        if entry is not None:
            logits, hidden = entry.read("logits"), entry.read("hidden")
        return TeacherOutputs(logits=np.asarray(logits[inverse], dtype=np.float32),
                              hidden=np.asarray(hidden[inverse], dtype=np.float32),
                              n_computed=computed, cache_path=None if entry is None else str(entry.path))


SoftLabelTeacher.total_forward_passes = 0  # process-wide count of LM forward passes (all teachers)
