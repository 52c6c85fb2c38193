"""The forward runner: loads the LM and turns batches of prompt token ids into teacher outputs.

Prompts are grouped into length-bucketed, right-padded batches under a token budget (a causal LM
never attends to trailing pads, so no attention mask is needed), and the instruction prefix shared
by every prompt is run once: its key/value cache is reused by every batch (exact up to float32
rounding). ``quantize="int8"`` and ``compile=True`` are opt-in because they change the outputs (int8)
or cost minutes of compilation.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from ..lm import load_language_model
from ._config import TeacherConfig
from ._gpu import (CPU_BATCH_SIZE, CPU_BATCH_TOKENS, GPU_BATCH_SIZE, check_dtype_for_device, cuda_batch_tokens,
                   is_cuda)
from ._prompts import PromptEncoder

logger = logging.getLogger(__name__)


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when available, else ``"cpu"``."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class LMRunner:
    """One loaded LM and the batched forward passes over it.

    Args:
        config: what to compute (model, pooling, layer, word scoring, quantisation, dtype).
        device, num_threads, max_batch_tokens, max_batch_size, prefix_cache, compile: how (see
            :class:`~dsl_plugin.teacher.SoftLabelTeacher`). ``max_batch_tokens`` / ``max_batch_size``
            None: 4096 tokens / 128 documents on CPU; on CUDA the token budget comes from the free GPU
            memory when the LM is loaded, and up to 1024 documents per batch.
    """

    #: fixed cost of one forward pass, in padded tokens, when choosing batch boundaries
    batch_overhead_tokens = 32

    def __init__(self, config: TeacherConfig, device: str = "auto", num_threads: int | None = None,
                 max_batch_tokens: int | None = None, max_batch_size: int | None = None, prefix_cache: bool = True,
                 compile: bool = False):
        self.config = config
        self.device = device
        self.num_threads = num_threads
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_size = max_batch_size
        self.prefix_cache = prefix_cache
        self.compile = compile
        self.n_forward_passes = 0
        self.n_tokens_computed = 0
        self.n_tokens_padded = 0
        self.tokenizer = None
        self.model = None
        self.encoder: PromptEncoder | None = None
        self._body = None
        self._prefix: dict = {}
        self._gpu_batch_tokens: int | None = None

    # ------------------------------------------------------------------ loading
    @property
    def loaded(self) -> bool:
        return self.model is not None

    def load(self) -> None:
        """Load tokenizer and LM (lazily: a fully cached call never loads the LM)."""
        if self.model is not None:
            return
        import torch

        device = resolve_device(self.device)
        check_dtype_for_device(self.config.dtype, device)
        if self.num_threads:
            torch.set_num_threads(int(self.num_threads))
        tok, lm = load_language_model(self.config.model, dtype=getattr(torch, self.config.dtype),
                                      device=device, revision=self.config.revision)
        self.attach(tok, lm)

    def attach(self, tokenizer, model) -> None:
        """Use an already loaded (tokenizer, LM) pair, e.g. one shared with another teacher."""
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.tokenizer, self.model = tokenizer, model
        self.encoder = PromptEncoder(self.config, tokenizer)
        self._body, self._prefix, self._gpu_batch_tokens = None, {}, None

    @property
    def torch_device(self):
        return next(self.model.parameters()).device

    def transformer(self):
        """The LM body used for teacher passes (the loaded model's, or an opt-in quantised/compiled copy).

        The loaded model itself is never modified (it may be shared with other teachers).
        """
        lm = self.model
        if self._body is not None and self._body[0] is lm:
            return self._body[1]
        import torch

        body = getattr(lm, lm.base_model_prefix)
        if self.config.quantize == "int8":
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

    # ------------------------------------------------------------------ prefix reuse
    def _prefix_state(self, prefix: tuple[int, ...]):
        """Per-layer (keys, values) of ``prefix`` run alone through the LM body (memoised)."""
        import torch

        key = (id(self.model), prefix)
        state = self._prefix.get(key)
        if state is None:
            ids = torch.tensor([list(prefix)], dtype=torch.long, device=self.torch_device)
            out = self.transformer()(input_ids=ids, use_cache=True)
            state = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
            stale = [k for k in self._prefix if isinstance(k, tuple)]
            if len(stale) >= 4:  # a handful of prefixes at most (normally exactly one)
                for k in stale:
                    del self._prefix[k]
            self._prefix[key] = state
        return state

    def usable_prefix(self, batch_ids: list[list[int]]) -> int:
        """Length of the prompt prefix to reuse for this batch (0: run the full prompts)."""
        if not self.prefix_cache or self._prefix.get("disabled"):
            return 0
        template = self.encoder.prefix_ids()
        n = min(len(template), min(len(x) for x in batch_ids) - 1)  # every row keeps >= 1 token to run
        k = 0
        while k < n and all(x[k] == template[k] for x in batch_ids):
            k += 1
        if k < 2:
            return 0
        window = getattr(self.model.config, "sliding_window", None)
        if window and max(len(x) for x in batch_ids) > int(window) - 1:
            return 0  # beyond a sliding window the cached prefix would be partly evicted
        return k

    def _prefilled_cache(self, batch_ids: list[list[int]], n_prefix: int):
        """A key/value cache holding the shared prefix for every row, or None when reuse is not possible."""
        try:
            state = self._prefix_state(tuple(batch_ids[0][:n_prefix]))
            from transformers import DynamicCache

            cache = DynamicCache(config=self.model.config)
            b = len(batch_ids)
            for layer, (k, v) in zip(cache.layers, state):
                layer.update(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1))
            return cache
        except Exception as exc:  # a model whose cache cannot be prefilled this way
            logger.warning("prompt-prefix reuse disabled for %s (%s: %s)", self.config.model, type(exc).__name__, exc)
            self._prefix["disabled"] = True
            return None

    # ------------------------------------------------------------------ forward
    def forward(self, batch_ids: list[list[int]], vocab_ids, words=None) -> tuple[np.ndarray, np.ndarray]:
        """Restricted last-token logits and pooled hidden states of a batch of prompts (token id lists).

        Rows are right-padded: in a causal LM the real tokens never attend to trailing pads, so no
        attention mask is needed and each row's output is read at its own last real token.
        With ``words`` (:meth:`word_groups` of the vocabulary), the scores are full-word log-probabilities.
        """
        import torch

        cfg, dev = self.config, self.torch_device
        n_prefix = self.usable_prefix(batch_ids)
        kwargs: dict = {"use_cache": words is not None}  # full-word scoring continues from each prompt
        if n_prefix:
            cache = self._prefilled_cache(batch_ids, n_prefix)
            if cache is None:
                n_prefix = 0
            else:
                kwargs = {"past_key_values": cache, "use_cache": True}
        rows = [x[n_prefix:] for x in batch_ids]
        lengths = torch.tensor([len(x) for x in rows])
        width = int(lengths.max())
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        for r, x in enumerate(rows):
            ids[r, :len(x)] = torch.tensor(x, dtype=torch.long)
        pos = torch.arange(n_prefix, n_prefix + width).unsqueeze(0).expand(len(rows), -1)
        layer = cfg.hidden_layer
        out = self.transformer()(input_ids=ids.to(dev), position_ids=pos.to(dev), output_hidden_states=layer != -1,
                                 **kwargs)
        arange, last = torch.arange(len(rows), device=dev), (lengths - 1).to(dev)
        h = out.last_hidden_state[arange, last].float()
        states = out.last_hidden_state if layer == -1 else out.hidden_states[layer]
        if cfg.pooling == "last":
            pooled = states[arange, last].float()
        else:  # mean over the positions after the instruction prefix shared by every prompt
            start = len(self.encoder.prefix_ids()) - n_prefix
            col = torch.arange(width, device=dev).unsqueeze(0)
            mask = ((col >= start) & (col < lengths.to(dev).unsqueeze(1))).unsqueeze(2).float()
            pooled = (states.float() * mask).sum(1) / mask.sum(1)  # summed in float32 (bf16 on GPUs)
        self.n_forward_passes += 1
        if words is None:
            logits = self.head(h, vocab_ids)
        else:
            logits = torch.log_softmax(self.head(h), dim=-1)[:, torch.as_tensor(vocab_ids, device=dev)]
            window = getattr(self.model.config, "sliding_window", None)
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
        return logits.float().cpu().numpy(), pooled.cpu().numpy()

    def head(self, h, vocab_ids=None):
        """LM-head logits of hidden states ``h`` (all tokens, or only ``vocab_ids``), with bias and soft-capping."""
        import torch

        head = self.model.get_output_embeddings()
        w = head.weight if vocab_ids is None else head.weight[vocab_ids]
        logits = h @ w.float().T
        bias = getattr(head, "bias", None)
        if bias is not None:
            logits = logits + (bias if vocab_ids is None else bias[vocab_ids]).float()
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = cap * torch.tanh(logits / cap)
        return logits

    def word_groups(self, vocabulary: Sequence[str]) -> list[tuple]:
        """Multi-token words grouped by token count, for full-word scoring: one (vocabulary indices (m,),
        token ids (m, n)) pair of tensors per count n."""
        import torch

        dev = self.torch_device
        idx, seqs = self.encoder.multi_token_words(vocabulary)
        logger.info("full-word scoring: %d of %d words are 2+ tokens (%d extra positions per document)",
                    len(idx), len(vocabulary), sum(len(x) - 1 for x in seqs))
        by_length: dict[int, list[int]] = {}
        for j, t in enumerate(seqs):
            by_length.setdefault(len(t), []).append(j)
        return [(torch.as_tensor(idx[js], device=dev),
                 torch.tensor([seqs[j] for j in js], dtype=torch.long, device=dev))
                for _, js in sorted(by_length.items())]

    def _continuation_logprob(self, cache, row: int, length: int, tokens, chunk: int = 64):
        """log P(tokens 2..n | prompt of ``row``, token 1) for each row of ``tokens`` (m, n): m words of n tokens.

        ``cache`` is the batch's key/value cache; row ``row``'s first ``length`` positions are its prompt.
        """
        import torch

        hidden = self._run_after_prompt(cache, row, length, tokens[:, :-1])  # (m, n - 1, d)
        flat, target = hidden.reshape(-1, hidden.shape[-1]), tokens[:, 1:].reshape(-1)
        lp = torch.empty(len(target), device=flat.device)
        for a in range(0, len(target), chunk):  # full-vocabulary log-softmax, a chunk of positions at a time
            logp = torch.log_softmax(self.head(flat[a:a + chunk].float()), dim=-1)
            lp[a:a + chunk] = logp.gather(1, target[a:a + chunk, None])[:, 0]
        return lp.view(tokens.shape[0], -1).sum(1)

    def _run_after_prompt(self, cache, row: int, length: int, ids):
        """Final hidden states of token rows ``ids`` (m, w) continuing the prompt of batch row ``row``."""
        import torch
        from transformers import DynamicCache

        m, w = ids.shape
        own = DynamicCache(config=self.model.config)
        for layer, src in zip(own.layers, cache.layers):
            layer.update(src.keys[row:row + 1, :, :length].expand(m, -1, -1, -1),
                         src.values[row:row + 1, :, :length].expand(m, -1, -1, -1))
        pos = torch.arange(length, length + w, device=ids.device).unsqueeze(0).expand(m, -1)
        out = self.transformer()(input_ids=ids, position_ids=pos, past_key_values=own, use_cache=True)
        self.n_forward_passes += 1
        self.n_tokens_computed += m * w
        return out.last_hidden_state

    # ------------------------------------------------------------------ batching
    def batch_limits(self) -> tuple[int, int]:
        """(token budget, documents) of one forward pass: the given values, else the device's defaults."""
        params = getattr(self.model, "parameters", None)  # the loaded LM's device, else the requested one
        on_gpu = next(params()).device.type == "cuda" if callable(params) else is_cuda(resolve_device(self.device))
        size = self.max_batch_size or (GPU_BATCH_SIZE if on_gpu else CPU_BATCH_SIZE)
        if self.max_batch_tokens:
            return self.max_batch_tokens, size
        if on_gpu and self.model is not None:
            if self._gpu_batch_tokens is None:  # from the memory free once the LM is loaded
                self._gpu_batch_tokens = cuda_batch_tokens(self.model, self.config.dtype,
                                                           self.config.max_doc_tokens + 64,
                                                           keep_all_hidden=self.config.hidden_layer != -1)
                logger.info("teacher batches on %s: up to %d padded tokens", self.torch_device,
                            self._gpu_batch_tokens)
            return self._gpu_batch_tokens, size
        return CPU_BATCH_TOKENS, size

    def batches(self, lengths: Sequence[int]) -> list[list[int]]:
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
        max_tokens, max_size = self.batch_limits()
        inf = float("inf")
        best = [inf] * (n + 1)  # best[j]: cost of batching the j longest documents
        cut = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):  # a batch starts at i (its width is srt[i]) ...
            if best[i] == inf:
                continue
            width = srt[i]
            cap = min(max_size, max(1, max_tokens // max(width, 1)))
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

    def compute_block(self, docs: Sequence[str], vocab_ids, progress=None, words=None) -> tuple[np.ndarray, np.ndarray]:
        """Teacher outputs (logits (n, |V|), pooled hidden states (n, H)) for ``docs``, in order."""
        import torch

        prompts = [self.encoder.encode(d) for d in docs]
        lengths = [len(p) for p in prompts]
        if self.prefix_cache and len(prompts) > 1:
            n_prefix = self.usable_prefix(prompts)  # batch by the tokens that will really be run
            lengths = [n - n_prefix for n in lengths]
        logits = hidden = None
        with torch.inference_mode():
            for batch in self.batches(lengths):
                lg, hd = self.forward([prompts[i] for i in batch], vocab_ids, words)
                if logits is None:
                    logits = np.empty((len(docs), lg.shape[1]), np.float32)
                    hidden = np.empty((len(docs), hd.shape[1]), np.float32)
                logits[batch], hidden[batch] = lg, hd
                if progress is not None:
                    progress.update(len(batch))
        return logits, hidden
