"""``DSLBackend``: a BERTopic embedding backend that reads the DSL teacher's hidden states.

One prompted LM forward pass per document gives both the embedding (the final-layer hidden state
of the last prompt token) and the soft label (the restricted next-token logits), and both land in
the teacher's on-disk cache. BERTopic uses the first; :class:`~dsl_plugin.bertopic.DSLRepresentation`
reads the second for the same documents without running the LM again.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from bertopic.backend import BaseEmbedder

from ..data import prepare_corpus
from ..teacher import DEFAULT_TEMPERATURE, SoftLabelTeacher, TeacherConfig, TeacherOutputs, softmax_with_temperature
from ..fileio import atomic_write_text, read_json_object

logger = logging.getLogger(__name__)

CENTERS = ("mean", "prompt")
_DEFAULTS = TeacherConfig.defaults()
#: neutral document whose prompt's hidden state is subtracted with ``center="prompt"``
REFERENCE_DOCUMENT = "."


class DSLBackend(BaseEmbedder):
    """BERTopic embedding backend: last-token final-layer hidden states of the DSL teacher prompt.

    Args:
        language_model: packaged alias (``"gemma3-270m"``, ``"smollm2-135m"``), local path or HF id.
        vocabulary: the teacher's topic vocabulary (the words soft labels are defined over). None:
            built with :func:`dsl_plugin.data.prepare_corpus` from the first documents embedded
            (in ``BERTopic.fit`` that is the whole training corpus) and kept as ``vocabulary_``.
            Re-create a backend for a loaded model with :meth:`load` (or pass ``vocabulary_`` and
            ``center_`` of the old one), otherwise the teacher cache is keyed differently and the
            embeddings are not comparable.
        vocabulary_size: |V| when the vocabulary is built.
        center: what to subtract from the hidden states before normalising. The last-token states
            of one fixed prompt share a large common component (Gemma-3-270M, 300 newsgroup posts:
            |mean| = 82, documents 47 from it on average, mean pairwise cosine 0.75), which left
            UMAP/HDBSCAN with 2 clusters; removing it is what makes the clusters usable.
            ``"mean"`` (default): the mean hidden state of the first documents embedded (in
            ``BERTopic.fit``, the training corpus), kept as ``center_`` -- save it with :meth:`save`;
            ``"prompt"``: the hidden state of the prompt with a neutral document ``"."`` (stateless,
            slightly less effective); an array: this vector; None: raw hidden states.
        normalize: L2-normalise the (centred) embeddings. Use ``center=None, normalize=False`` with
            :class:`~dsl_plugin.bertopic.DSLCluster`, whose DSL student reads raw hidden states.
        max_doc_tokens, prompt_template: the two most used teacher settings (see
            :class:`dsl_plugin.TeacherConfig`); ignored when ``teacher`` or ``teacher_config`` is given.
        teacher_config: a full :class:`dsl_plugin.TeacherConfig` (wins over the three settings above).
        device, num_threads, cache_dir: how the teacher runs (see :class:`dsl_plugin.SoftLabelTeacher`).
        teacher: an existing :class:`~dsl_plugin.SoftLabelTeacher` to use (its settings win).
        keep_in_memory: also keep the outputs of every embedded document in memory, so repeated
            look-ups (representation models, KeyBERTInspired, subsets of documents) need neither
            the LM nor the disk cache. Costs ``4 * (|V| + H)`` bytes per unique document.
        verbose: progress bar of the teacher.

    Attributes:
        vocabulary_: the vocabulary in use (None until set or built).
        center_: the vector subtracted from the hidden states (None until fitted, or without centring).
        teacher: the :class:`~dsl_plugin.SoftLabelTeacher`.
        last_outputs_: :class:`~dsl_plugin.TeacherOutputs` of the last :meth:`embed` call.
        n_embed_calls: number of :meth:`embed` calls (documents or words).
        n_teacher_calls: number of those that had to ask the teacher (cache or LM).
    """

    def __init__(self, language_model: str = _DEFAULTS["model"], vocabulary: Sequence[str] | None = None,
                 vocabulary_size: int = 2000, center="mean", normalize: bool = True,
                 max_doc_tokens: int = _DEFAULTS["max_doc_tokens"], cache_dir: str | None = None,
                 teacher: SoftLabelTeacher | None = None, prompt_template: str = _DEFAULTS["prompt_template"],
                 device: str = "auto", num_threads: int | None = None, keep_in_memory: bool = True,
                 verbose: bool = False, teacher_config: TeacherConfig | None = None):
        super().__init__()
        if teacher is None:
            config = teacher_config or TeacherConfig(model=language_model, prompt_template=prompt_template,
                                                     max_doc_tokens=max_doc_tokens)
            teacher = SoftLabelTeacher(config, device=device, num_threads=num_threads, cache_dir=cache_dir,
                                       show_progress=verbose)
        self.teacher = teacher
        self.cache_dir = teacher.cache_dir
        self.vocabulary_size = int(vocabulary_size)
        self.normalize = bool(normalize)
        self.center_: np.ndarray | None = None
        if center is None or (isinstance(center, str) and center in CENTERS):
            self.center = center
        elif isinstance(center, str):
            raise ValueError(f"center must be one of {CENTERS}, None or a vector, got {center!r}")
        else:
            self.center = "vector"
            self.center_ = np.asarray(center, dtype=np.float32).ravel()
        self.keep_in_memory = bool(keep_in_memory)
        self.verbose = verbose
        self.vocabulary_: list[str] | None = None
        if vocabulary is not None:
            self._set_vocabulary(vocabulary)
        self.last_outputs_: TeacherOutputs | None = None
        self.n_embed_calls = 0
        self.n_teacher_calls = 0
        self.hidden_size_: int | None = None
        self._memory: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def teacher_config(self) -> TeacherConfig:
        return self.teacher.config

    @property
    def language_model(self) -> str:
        return self.teacher.config.model

    @property
    def max_doc_tokens(self) -> int:
        return self.teacher.config.max_doc_tokens

    @property
    def prompt_template(self) -> str:
        return self.teacher.config.prompt_template

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_dsl(cls, dsl_model, normalize: bool = False, **kwargs) -> "DSLBackend":
        """A backend with the teacher settings and vocabulary of a fitted :class:`dsl_plugin.DSL`.

        Embedding the DSL's training documents then reuses the DSL's teacher cache entry (no LM
        pass). ``center`` defaults to None and ``normalize`` to False so that :class:`DSLCluster`
        sees the raw hidden states the DSL student was trained on.
        """
        if getattr(dsl_model, "vocabulary_", None) is None:
            raise ValueError("the DSL model is not fitted (it has no vocabulary_)")
        configs = dsl_model.teacher_configs
        if len(configs) != 1:
            raise ValueError(f"DSLBackend reads one LM; this DSL uses an ensemble ({dsl_model.language_model!r})")
        teacher = SoftLabelTeacher(configs[0], device=dsl_model.device, cache_dir=dsl_model.cache_dir,
                                   show_progress=kwargs.get("verbose", False))
        kwargs.setdefault("center", None)
        return cls(vocabulary=dsl_model.vocabulary_, normalize=normalize, teacher=teacher, **kwargs)

    def _set_vocabulary(self, vocabulary: Sequence[str]) -> None:
        vocab = [str(w) for w in vocabulary]
        if not vocab:
            raise ValueError("the vocabulary is empty")
        if len(set(vocab)) != len(vocab):
            raise ValueError("the vocabulary has duplicate words")
        if self.vocabulary_ is not None and vocab != self.vocabulary_:
            self._memory.clear()  # soft labels depend on the vocabulary
        self.vocabulary_ = vocab

    def fit_vocabulary(self, documents: Sequence[str]) -> "DSLBackend":
        """Build ``vocabulary_`` from ``documents`` now (as the first :meth:`embed` call would)."""
        self._set_vocabulary(prepare_corpus(list(documents), vocabulary_size=self.vocabulary_size).vocabulary)
        logger.info("DSLBackend: built a vocabulary of %d words from %d documents", len(self.vocabulary_),
                    len(documents))
        return self

    def _require_vocabulary(self, documents: Sequence[str] | None = None) -> list[str]:
        if self.vocabulary_ is None:
            if documents is None:
                raise RuntimeError("DSLBackend has no vocabulary yet: pass vocabulary=... or embed documents first")
            self.fit_vocabulary(documents)
        return self.vocabulary_

    # ------------------------------------------------------------------ teacher outputs
    def outputs(self, documents: Sequence[str]) -> TeacherOutputs:
        """Teacher outputs (raw restricted logits, hidden states) for ``documents``, in order.

        Documents already seen by this backend come from memory; the others go to the teacher in
        one call (its disk cache is keyed by that list of documents, so repeating the same call in a
        new process, e.g. ``BERTopic.fit`` on the same corpus, runs no LM pass).
        """
        documents = [("" if d is None else str(d)) for d in documents]
        if not documents:
            raise ValueError("no documents were given to DSLBackend")
        vocab = self._require_vocabulary(documents)
        missing = list(dict.fromkeys(d for d in documents if d not in self._memory))
        fresh: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        n_computed = 0
        cache_path = None
        if missing:
            self.n_teacher_calls += 1
            if all(not d.strip() for d in missing):
                # the teacher refuses an all-empty batch: an empty text gets a zero (centred) embedding
                # and a uniform soft label (zero logits)
                zero_l = np.zeros(len(vocab), np.float32)
                zero_h = (self.center_.copy() if self.center_ is not None  # centred embedding 0
                          else np.zeros(self._hidden_size(), np.float32))
                fresh = {d: (zero_l, zero_h) for d in missing}
            else:
                out = self.teacher.compute(missing, vocab)
                n_computed, cache_path = out.n_computed, out.cache_path
                self.hidden_size_ = int(out.hidden.shape[1])
                fresh = {d: (out.logits[i], out.hidden[i]) for i, d in enumerate(missing)}

        def row(d: str) -> tuple[np.ndarray, np.ndarray]:
            r = fresh.get(d)
            return self._memory[d] if r is None else r

        rows = [row(d) for d in documents]
        logits = np.stack([r[0] for r in rows]).astype(np.float32, copy=False)
        hidden = np.stack([r[1] for r in rows]).astype(np.float32, copy=False)
        if self.keep_in_memory:
            self._memory.update(fresh)
        return TeacherOutputs(logits=logits, hidden=hidden, n_computed=n_computed, cache_path=cache_path)

    def _hidden_size(self) -> int:
        if getattr(self, "hidden_size_", None) is None:
            self.teacher.load()
            self.hidden_size_ = int(self.teacher.lm.get_output_embeddings().weight.shape[1])
        return self.hidden_size_

    def soft_labels(self, documents: Sequence[str], temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
        """Soft labels softmax(logits / temperature), shape (N, |vocabulary_|), for ``documents``."""
        return softmax_with_temperature(self.outputs(documents).logits, temperature)

    # ------------------------------------------------------------------ BaseEmbedder API
    def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
        """Hidden states (N, H) of the teacher prompt's last token, centred and L2-normalised."""
        return self._embed(documents, fit=True)

    def _embed(self, documents: Sequence[str], fit: bool) -> np.ndarray:
        if isinstance(documents, str):
            documents = [documents]
        self.n_embed_calls += 1
        out = self.outputs(documents)
        self.last_outputs_ = out
        emb = np.array(out.hidden, dtype=np.float32, copy=True)
        if self.center is not None:
            emb -= self._center_vector(out.hidden, fit)
        if self.normalize:
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            emb /= np.where(norms > 0, norms, 1.0)
        return emb

    def _center_vector(self, hidden: np.ndarray, fit: bool) -> np.ndarray:
        if self.center_ is not None:
            if self.center_.shape[0] != hidden.shape[1]:
                raise ValueError(f"center_ has {self.center_.shape[0]} dimensions, the LM's hidden states "
                                 f"{hidden.shape[1]}")
            return self.center_
        if self.center == "prompt":
            self.center_ = np.array(self.outputs([REFERENCE_DOCUMENT]).hidden[0], dtype=np.float32)
        elif not fit or len(hidden) < 2:
            raise RuntimeError("DSLBackend(center='mean') has no center_ yet: it is the mean hidden state of the "
                               "first documents embedded (at least 2; BERTopic.fit does this). For a loaded topic "
                               "model, re-create the backend with DSLBackend.load(...) or center=old.center_")
        else:
            self.center_ = hidden.mean(axis=0).astype(np.float32)
            logger.info("DSLBackend: centring on the mean hidden state of %d documents", len(hidden))
        return self.center_

    def embed_words(self, words: Sequence[str], verbose: bool = False) -> np.ndarray:
        """Word embeddings: each word goes through the same prompt as a one-word document.

        They live in the same space as the document embeddings (what KeyBERTInspired, MMR and
        BERTopic's ``find_topics`` need), at the cost of one LM pass per new word (cached like
        documents). Needs ``vocabulary_`` (and ``center_``) from a previous document call.
        """
        if isinstance(words, str):
            words = [words]
        self._require_vocabulary()
        return self._embed(words, fit=False)

    def embed_documents(self, document: Sequence[str], verbose: bool = False) -> np.ndarray:
        return self.embed(document, verbose)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write settings, ``vocabulary_`` and ``center_`` to a JSON file (nothing else is needed to
        embed new documents consistently with a saved BERTopic model)."""
        if self.vocabulary_ is None:
            raise RuntimeError("nothing to save: this DSLBackend has no vocabulary yet")
        state = {"format": 2, "teacher_config": self.teacher_config.as_dict(), "vocabulary_size": self.vocabulary_size,
                 "normalize": self.normalize, "center": self.center, "vocabulary": self.vocabulary_,
                 "center_": None if self.center_ is None else [float(x) for x in self.center_]}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(path, json.dumps(state, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | os.PathLike, **overrides) -> "DSLBackend":
        """Re-create a backend written by :meth:`save` (``overrides``: e.g. ``cache_dir``, ``device``)."""
        state = read_json_object(path)
        center = state["center"]
        if state.get("center_") is not None:
            center = np.asarray(state["center_"], dtype=np.float32)
        config = state.get("teacher_config") or {  # format 1 kept three teacher settings
            "model": state["language_model"], "prompt_template": state["prompt_template"],
            "max_doc_tokens": state["max_doc_tokens"]}
        kwargs = dict(teacher_config=TeacherConfig(**config), vocabulary_size=state["vocabulary_size"],
                      normalize=state["normalize"], center=center, vocabulary=state["vocabulary"])
        kwargs.update(overrides)
        backend = cls(**kwargs)
        if isinstance(state["center"], str) and backend.center == "vector":
            backend.center = state["center"]  # keep the recorded mode; center_ holds the fitted vector
        return backend

    def __repr__(self) -> str:
        v = None if self.vocabulary_ is None else len(self.vocabulary_)
        return (f"DSLBackend(language_model={self.language_model!r}, vocabulary=<{v} words>, "
                f"center={self.center!r}, normalize={self.normalize}, max_doc_tokens={self.max_doc_tokens})")
