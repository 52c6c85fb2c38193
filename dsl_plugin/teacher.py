"""The soft-label teacher: a prompted causal LM -> restricted next-token logits + hidden states.

For each document the teacher builds the labeling prompt, runs the LM once and keeps

* the next-token logits after the prompt, **restricted to the topic vocabulary** (each word maps to
  the first sub-token of ``" " + word``), stored raw so the temperature can be tuned later, and
* the final-layer hidden state of the last prompt token (the student's input).

Only the last position's hidden state goes through the LM head, and only for vocabulary tokens.
Outputs are cached (:mod:`dsl_plugin.cache`) per (model, prompt, vocabulary, max tokens,
documents); duplicate documents are computed once.

Speed (see ``docs/performance.md``): prompts are grouped into length-bucketed, right-padded batches
under a token budget (a causal LM never attends to trailing pads, so no attention mask is needed),
and the instruction prefix shared by every prompt is run once: its key/value cache is reused by
every batch (exact up to float32 rounding). ``quantize="int8"`` and ``compile=True`` are opt-in
because they change the outputs (int8) or cost minutes of compilation.
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

WORD_SCORINGS = ("first_token", "full_word")

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
        revision: Hugging Face revision for hub ids.
        prefix_cache: run the prompt prefix shared by all documents once and reuse its key/value cache
            (exact up to float32 rounding; falls back to full prompts when a model does not support it).
        quantize: ``None`` (default) or ``"int8"``: dynamic int8 quantisation of the transformer's Linear
            layers (faster on CPU, but changes the outputs: opt-in, and part of the cache identity).
        compile: ``torch.compile`` the transformer (minutes of one-off compilation; opt-in).
        word_scoring: ``"first_token"`` (default, the paper's mapping: a word's logit is its first
            sub-token's) or ``"full_word"``: a word's score is log P(all of its tokens | prompt), so
            words split into several tokens no longer inherit their first sub-token's prior and no
            longer tie with words sharing it. Opt-in: every multi-token word costs extra LM positions
            per document (84x the default teacher time on StackOverflow titles with SmolLM2, for no
            measured purity gain; see benchmarks/results/FINDINGS.md).
    """

    model: str = DEFAULT_LM
    prompt_template: str = DEFAULT_PROMPT
    max_doc_tokens: int = 128
    max_batch_tokens: int = 4096
    max_batch_size: int = 128
    device: str = "auto"
    num_threads: int | None = None
    cache_dir: str | None = None
    use_cache: bool = True
    shard_size: int = 256
    show_progress: bool = True
    revision: str | None = None
    prefix_cache: bool = True
    quantize: str | None = None
    compile: bool = False
    word_scoring: str = "first_token"
    n_forward_passes: int = field(default=0, init=False)
    n_documents_computed: int = field(default=0, init=False)
    n_tokens_computed: int = field(default=0, init=False)
    n_tokens_padded: int = field(default=0, init=False)
    _tok: object = field(default=None, init=False, repr=False)
    _lm: object = field(default=None, init=False, repr=False)
    _body: object = field(default=None, init=False, repr=False)
    _prefix: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.prompt_template.count("{document}") != 1:
            raise ValueError("prompt_template must contain '{document}' exactly once")
        if self.max_doc_tokens < 1:
            raise ValueError(f"max_doc_tokens must be >= 1, got {self.max_doc_tokens}")
        if self.quantize not in (None, "int8"):
            raise ValueError(f"quantize must be None or 'int8', got {self.quantize!r}")
        if self.max_batch_tokens < 1 or self.max_batch_size < 1:
            raise ValueError("max_batch_tokens and max_batch_size must be >= 1")
        if self.word_scoring not in WORD_SCORINGS:
            raise ValueError(f"word_scoring must be one of {WORD_SCORINGS}, got {self.word_scoring!r}")

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
        self._body, self._prefix = None, {}

    def _transformer(self):
        """The LM body used for teacher passes (the loaded model's, or an opt-in quantised/compiled copy).

        The loaded model itself is never modified (it may be shared with other teachers).
        """
        lm = self._lm
        if self._body is not None and self._body[0] is lm:
            return self._body[1]
        import torch

        body = getattr(lm, lm.base_model_prefix)
        if self.quantize == "int8":
            emb = body.get_input_embeddings()
            body.set_input_embeddings(None)  # do not deep-copy the (large) embedding matrix
            try:
                quantized = torch.ao.quantization.quantize_dynamic(body, {torch.nn.Linear}, dtype=torch.qint8,
                                                                   inplace=False)
            finally:
                body.set_input_embeddings(emb)
            quantized.set_input_embeddings(emb)
            body = quantized
        if self.compile:
            body = torch.compile(body, dynamic=True)
        self._body = (lm, body)
        return body

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
        for w, t in zip(vocabulary, self._word_tokens(vocabulary)):
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

    def _word_tokens(self, vocabulary: Sequence[str]) -> list[list[int]]:
        """Token ids of ``" " + word`` for each word (empty for a blank word)."""
        tok = self.tokenizer
        return [list(tok(" " + w, add_special_tokens=False)["input_ids"]) if w.strip() else [] for w in vocabulary]

    def multi_token_words(self, vocabulary: Sequence[str]) -> tuple[np.ndarray, list[list[int]]]:
        """Indices of the words that ``" " + word`` splits into 2+ tokens, and their token ids."""
        pairs = [(i, t) for i, t in enumerate(self._word_tokens(vocabulary)) if len(t) > 1]
        return np.asarray([i for i, _ in pairs], dtype=np.int64), [t for _, t in pairs]

    def _word_groups(self, vocabulary: Sequence[str]) -> list[tuple]:
        """Multi-token words grouped by token count, for full-word scoring: one (vocabulary indices (m,),
        token ids (m, n)) pair of tensors per count n, built once per :meth:`compute`."""
        import torch

        dev = next(self._lm.parameters()).device
        idx, seqs = self.multi_token_words(vocabulary)
        logger.info("full-word scoring: %d of %d words are 2+ tokens (%d extra positions per document)",
                    len(idx), len(vocabulary), sum(len(x) - 1 for x in seqs))
        by_length: dict[int, list[int]] = {}
        for j, t in enumerate(seqs):
            by_length.setdefault(len(t), []).append(j)
        return [(torch.as_tensor(idx[js], device=dev),
                 torch.tensor([seqs[j] for j in js], dtype=torch.long, device=dev))
                for _, js in sorted(by_length.items())]

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
        ident = {**model_identity(self.model, self.revision), "prompt": self.prompt_template,
                 "max_doc_tokens": self.max_doc_tokens, "vocabulary": list(vocabulary), "dtype": "float32"}
        if self.quantize:
            ident["quantize"] = self.quantize  # changes the outputs: a separate cache entry
        if self.word_scoring != "first_token":  # the default keeps the keys of existing caches
            ident["word_scoring"] = self.word_scoring
        return ident

    def _entry(self, documents: Sequence[str], vocabulary: Sequence[str]) -> CacheEntry | None:
        if not self.use_cache:
            return None
        ident = self.identity(vocabulary)
        key = make_key(ident, documents)
        root = self.cache_dir or default_cache_dir() / "teacher"
        small_ident = {k: v for k, v in ident.items() if k != "vocabulary"} | {"vocabulary_size": len(vocabulary)}
        return CacheEntry(root, key, len(documents), self.shard_size, identity=small_ident)

    # ------------------------------------------------------------------ compute
    def prompt_prefix_ids(self) -> list[int]:
        """Token ids that begin every prompt (BOS + instruction up to the document slot).

        Found as the common prefix of the prompts of probe documents that start differently, so a
        token merged across the ``{document}`` boundary is never included. ``_forward`` still checks
        that each prompt really starts with it.
        """
        probes = ["a", "Z", "1", "(", "x y", "\u00e9"]
        return _common_prefix([self.build_prompt_ids(p) for p in probes])

    def _prefix_state(self, prefix: tuple[int, ...]):
        """Per-layer (keys, values) of ``prefix`` run alone through the LM body (memoised)."""
        import torch

        key = (id(self._lm), prefix)
        state = self._prefix.get(key)
        if state is None:
            body = self._transformer()
            dev = next(self._lm.parameters()).device
            ids = torch.tensor([list(prefix)], dtype=torch.long, device=dev)
            out = body(input_ids=ids, use_cache=True)
            state = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
            stale = [k for k in self._prefix if isinstance(k, tuple)]
            if len(stale) >= 4:  # a handful of prefixes at most (normally exactly one)
                for k in stale:
                    del self._prefix[k]
            self._prefix[key] = state
        return state

    def _usable_prefix(self, batch_ids: list[list[int]]) -> int:
        """Length of the prompt prefix to reuse for this batch (0: run the full prompts)."""
        if not self.prefix_cache or self._prefix.get("disabled"):
            return 0
        if "template" not in self._prefix:
            self._prefix["template"] = tuple(self.prompt_prefix_ids())
        template = self._prefix["template"]
        n = min(len(template), min(len(x) for x in batch_ids) - 1)  # every row keeps >= 1 token to run
        k = 0
        while k < n and all(x[k] == template[k] for x in batch_ids):
            k += 1
        if k < 2:
            return 0
        window = getattr(self._lm.config, "sliding_window", None)
        if window and max(len(x) for x in batch_ids) > int(window) - 1:
            return 0  # beyond a sliding window the cached prefix would be partly evicted
        return k

    def _forward(self, batch_ids: list[list[int]], vocab_ids, words=None) -> tuple[np.ndarray, np.ndarray]:
        """Restricted last-token logits and final hidden states of a batch of prompts (token id lists).

        Rows are right-padded: in a causal LM the real tokens never attend to trailing pads, so no
        attention mask is needed and each row's output is read at its own last real token.
        With ``words`` (``_word_groups`` of the vocabulary), the scores are full-word log-probabilities
        (``word_scoring="full_word"``).
        """
        import torch

        lm, tok = self._lm, self._tok
        dev = next(lm.parameters()).device
        body = self._transformer()
        n_prefix = self._usable_prefix(batch_ids)
        kwargs: dict = {"use_cache": words is not None}  # full-word scoring continues from each prompt
        if n_prefix:
            try:
                state = self._prefix_state(tuple(batch_ids[0][:n_prefix]))
                from transformers import DynamicCache

                cache = DynamicCache(config=lm.config)
                b = len(batch_ids)
                for layer, (k, v) in zip(cache.layers, state):
                    layer.update(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1))
                kwargs = {"past_key_values": cache, "use_cache": True}
            except Exception as exc:  # a model whose cache cannot be prefilled this way
                logger.warning("prompt-prefix reuse disabled for %s (%s: %s)", self.model, type(exc).__name__, exc)
                self._prefix["disabled"] = True
                n_prefix = 0
        rows = [x[n_prefix:] for x in batch_ids]
        lengths = torch.tensor([len(x) for x in rows])
        width = int(lengths.max())
        ids = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
        for r, x in enumerate(rows):
            ids[r, :len(x)] = torch.tensor(x, dtype=torch.long)
        pos = torch.arange(n_prefix, n_prefix + width).unsqueeze(0).expand(len(rows), -1)
        out = body(input_ids=ids.to(dev), position_ids=pos.to(dev), **kwargs)
        h = out.last_hidden_state[torch.arange(len(rows), device=dev), (lengths - 1).to(dev)].float()
        self.n_forward_passes += 1
        if words is None:
            logits = self._head(h, vocab_ids)
        else:
            logits = torch.log_softmax(self._head(h), dim=-1)[:, torch.as_tensor(vocab_ids, device=dev)]
            window = getattr(lm.config, "sliding_window", None)
            longest = int(words[-1][1].shape[1])  # groups are sorted by token count
            for r in range(len(rows)):
                length = n_prefix + len(rows[r])
                if window and length + longest > int(window) - 1:
                    raise ValueError(f"full-word scoring needs prompt + word ({length} + {longest} tokens) inside "
                                     f"the model's sliding window ({window}); lower max_doc_tokens")
                for members, tokens in words:
                    logits[r, members] += self._continuation_logprob(out.past_key_values, r, length, tokens)
        self.n_tokens_computed += int(lengths.sum())
        self.n_tokens_padded += len(rows) * width - int(lengths.sum())
        SoftLabelTeacher.total_forward_passes += 1
        return logits.cpu().numpy(), h.cpu().numpy()

    def _head(self, h, vocab_ids=None):
        """LM-head logits of hidden states ``h`` (all tokens, or only ``vocab_ids``), with bias and soft-capping."""
        import torch

        head = self._lm.get_output_embeddings()
        w = head.weight if vocab_ids is None else head.weight[vocab_ids]
        logits = h @ w.float().T
        bias = getattr(head, "bias", None)
        if bias is not None:
            logits = logits + (bias if vocab_ids is None else bias[vocab_ids]).float()
        cap = getattr(self._lm.config, "final_logit_softcapping", None)
        if cap:
            logits = cap * torch.tanh(logits / cap)
        return logits

    def _continuation_logprob(self, cache, row: int, length: int, tokens, chunk: int = 64):
        """log P(tokens 2..n | prompt of ``row``, token 1) for each row of ``tokens`` (m, n): m words of n tokens.

        ``cache`` is the batch's key/value cache; row ``row``'s first ``length`` positions are its prompt.
        """
        import torch

        hidden = self._run_after_prompt(cache, row, length, tokens[:, :-1])  # (m, n - 1, d)
        flat, target = hidden.reshape(-1, hidden.shape[-1]), tokens[:, 1:].reshape(-1)
        lp = torch.empty(len(target), device=flat.device)
        for a in range(0, len(target), chunk):  # full-vocabulary log-softmax, a chunk of positions at a time
            logp = torch.log_softmax(self._head(flat[a:a + chunk].float()), dim=-1)
            lp[a:a + chunk] = logp.gather(1, target[a:a + chunk, None])[:, 0]
        return lp.view(tokens.shape[0], -1).sum(1)

    def _run_after_prompt(self, cache, row: int, length: int, ids):
        """Final hidden states of token rows ``ids`` (m, w) continuing the prompt of batch row ``row``."""
        import torch
        from transformers import DynamicCache

        m, w = ids.shape
        own = DynamicCache(config=self._lm.config)
        for layer, src in zip(own.layers, cache.layers):
            layer.update(src.keys[row:row + 1, :, :length].expand(m, -1, -1, -1),
                         src.values[row:row + 1, :, :length].expand(m, -1, -1, -1))
        pos = torch.arange(length, length + w, device=ids.device).unsqueeze(0).expand(m, -1)
        out = self._transformer()(input_ids=ids, position_ids=pos, past_key_values=own, use_cache=True)
        self.n_forward_passes += 1
        SoftLabelTeacher.total_forward_passes += 1
        self.n_tokens_computed += m * w
        return out.last_hidden_state

    #: fixed cost of one forward pass, in padded tokens, when choosing batch boundaries
    batch_overhead_tokens = 32

    def _batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Length-bucketed batches under the token budget (indices into ``lengths``).

        Documents are sorted by length (longest first) and cut into contiguous groups that minimise
        padded tokens + a small per-batch cost, subject to ``size <= max_batch_size`` and
        ``size * longest <= max_batch_tokens`` (a single longer prompt still forms its own batch).
        """
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        srt = [int(lengths[i]) for i in order]
        n = len(srt)
        if n == 0:
            return []
        inf = float("inf")
        best = [inf] * (n + 1)  # best[j]: cost of batching the j longest documents
        cut = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):  # a batch starts at i (its width is srt[i]) ...
            if best[i] == inf:
                continue
            width = srt[i]
            cap = min(self.max_batch_size, max(1, self.max_batch_tokens // max(width, 1)))
            base = best[i] + self.batch_overhead_tokens
            real = 0
            for j in range(i + 1, min(n, i + cap) + 1):  # ... and ends before j
                real += srt[j - 1]
                cost = base + (j - i) * width - real
                if cost < best[j]:
                    best[j], cut[j] = cost, i
        batches, j = [], n
        while j > 0:
            i = cut[j]
            batches.append([order[k] for k in range(i, j)])
            j = i
        return batches[::-1]

    def _compute_block(self, docs: Sequence[str], vocab_ids, progress=None,
                       words=None) -> tuple[np.ndarray, np.ndarray]:
        import torch

        prompts = [self.build_prompt_ids(d) for d in docs]
        lengths = [len(p) for p in prompts]
        if self.prefix_cache and len(prompts) > 1:
            n_prefix = self._usable_prefix(prompts)  # batch by the tokens that will really be run
            lengths = [n - n_prefix for n in lengths]
        logits = hidden = None
        with torch.inference_mode():
            for batch in self._batches(lengths):
                lg, hd = self._forward([prompts[i] for i in batch], vocab_ids, words)
                if logits is None:
                    logits = np.empty((len(docs), lg.shape[1]), np.float32)
                    hidden = np.empty((len(docs), hd.shape[1]), np.float32)
                logits[batch], hidden[batch] = lg, hd
                if progress is not None:
                    progress.update(len(batch))
        self.n_documents_computed += len(docs)
        return logits, hidden

    def is_cached(self, documents: Sequence[str], vocabulary: Sequence[str]) -> bool:
        """Whether :meth:`compute` would run no LM pass for these documents (shards present; not verified)."""
        entry = self._entry(list(dict.fromkeys(documents)), vocabulary)
        return entry is not None and not entry.missing_shards(verify=False)

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
            words = (self._word_groups(vocabulary) or None) if self.word_scoring == "full_word" else None
            with tqdm(total=n_todo, desc=f"teacher {self.model}", unit="doc", disable=not self.show_progress) as bar:
                if entry is None:
                    logits, hidden = self._compute_block(unique, vocab_ids, bar, words)
                else:
                    for i in todo:
                        start, stop = entry.shard_range(i)
                        lg, hd = self._compute_block(unique[start:stop], vocab_ids, bar, words)
                        entry.write_shard(i, lg, hd)
            computed = n_todo
        if entry is not None:  # stream the shards into the caller's arrays: one copy, no concatenation
            logits, hidden = _gather_from_cache(entry, "logits", inverse), _gather_from_cache(entry, "hidden", inverse)
        elif not _is_identity(inverse):
            logits, hidden = logits[inverse], hidden[inverse]
        return TeacherOutputs(logits=np.asarray(logits, dtype=np.float32), hidden=np.asarray(hidden, dtype=np.float32),
                              n_computed=computed, cache_path=None if entry is None else str(entry.path))


def _common_prefix(seqs: Sequence[Sequence[int]]) -> list[int]:
    first = seqs[0]
    n = min(len(s) for s in seqs)
    k = 0
    while k < n and all(s[k] == first[k] for s in seqs):
        k += 1
    return list(first[:k])


def _is_identity(inverse: np.ndarray) -> bool:
    return bool(np.array_equal(inverse, np.arange(len(inverse))))


def _gather_from_cache(entry: CacheEntry, which: str, inverse: np.ndarray) -> np.ndarray:
    """``entry.read(which)[inverse]`` without materialising the concatenation (peak: result + one shard).

    Raises:
        RuntimeError: if a shard is missing.
    """
    out = None
    identity = _is_identity(inverse)
    order = np.argsort(inverse, kind="stable")
    sorted_inv = inverse[order]
    for i in range(entry.n_shards):
        start, stop = entry.shard_range(i)
        logits_path, hidden_path, record = entry._files(i)
        if not record.exists():
            raise RuntimeError(f"teacher cache {entry.path} is incomplete: shard {i} is missing")
        part = np.load(logits_path if which == "logits" else hidden_path, mmap_mode="r")
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


SoftLabelTeacher.total_forward_passes = 0  # process-wide count of LM forward passes (all teachers)
