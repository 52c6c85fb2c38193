"""``DSL``: the soft-label distillation topic model as an OCTIS model with a scikit-learn style API."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from octis.models.model import AbstractModel

from .data import prepare_corpus
from .lm import DEFAULT_LM
from .network import ProdLDANetwork
from .octis_io import raw_corpus as _raw_corpus
from .teacher import DEFAULT_PROMPT, SoftLabelTeacher, TeacherOutputs, resolve_device, softmax_with_temperature
from .training import TrainConfig, infer_theta, train_network

logger = logging.getLogger(__name__)

# Hyper-parameters: name -> (default, caster). Casting makes numpy scalars from OCTIS's Optimizer safe.
_PARAMS: dict[str, tuple[Any, Callable | None]] = {
    "num_topics": (20, int),
    "language_model": (DEFAULT_LM, str),
    "temperature": (3.0, float),
    "center_logits": (False, bool),
    "reconstruction_weight": (None, None),
    "loss": ("kl", str),
    "target": ("soft", str),
    "input": ("lm", str),
    "kl_direction": ("target_model", str),
    "student_temperature": (True, None),
    "hidden_sizes": ((200, 200), tuple),
    "activation": ("softplus", str),
    "dropout": (0.2, float),
    "learn_priors": (True, bool),
    "lr": (2e-3, float),
    "betas": ((0.99, 0.99), tuple),
    "lr_scheduler": ("cosine", None),
    "batch_size": (64, int),
    "num_epochs": (100, int),
    "num_samples": (10, int),
    "seed": (0, None),
    "prompt_template": (DEFAULT_PROMPT, str),
    "max_doc_tokens": (128, int),
    "word_scoring": ("first_token", str),
    "device": ("auto", str),
    "cache_dir": (None, os.fspath),  # str, so that save() can write it to JSON (pathlib.Path accepted)
    "embedding_model": (None, None),
    "use_partitions": (False, bool),
    "verbose": (True, bool),
}
_NOT_SAVED = {"embedding_model"}


def _cast(name: str, value: Any) -> Any:
    caster = _PARAMS[name][1]
    if value is None or caster is None:
        return value.item() if isinstance(value, np.generic) else value
    if caster is bool and isinstance(value, (str, np.str_)):
        return str(value).lower() in ("1", "true", "yes")
    return caster(value.item() if isinstance(value, np.generic) else value)


class DSL(AbstractModel):
    """Topic model distilling soft labels from a language model (arXiv 2602.17907).

    One line: ``DSL(num_topics=20)``. Inside OCTIS use :meth:`train_model`; elsewhere use
    :meth:`fit` / :meth:`transform` / :meth:`get_topics`.

    Args:
        num_topics: K.
        language_model: packaged alias (``"gemma3-270m"``, ``"smollm2-135m"``), local path or HF id.
        temperature: tau of the soft labels softmax(logits / tau).
        center_logits: subtract each word's mean logit over the training documents before the softmax
            (opt-in; removes words whose first sub-token is generically likely, e.g. "aop" -> " a").
            With the small packaged LMs, ``center_logits=True, temperature=2`` raised purity by
            .07-.10 on 20 Newsgroups and StackOverflow and changed nothing on TweetTopic
            (benchmarks/results/sweep_*.md, FINDINGS.md).
        reconstruction_weight: lambda; None = 1e3, except 1 for the ProdLDA objective
            (``loss="nll"`` with ``target="bow"``, whose counts already sum to the document length).
            A soft target sums to 1, so the paper's NLL ablation keeps 1e3: with weight 1 the
            reconstruction term is ~1000x smaller than the prior KL and the posterior collapses
            (measured: purity .067 on StackOverflow).
        loss: ``"kl"`` (the paper) or ``"nll"`` (ablation: cross-entropy -sum(target * log p),
            ProdLDA's reconstruction loss). On soft labels it equals KL(target||model) plus the
            target's entropy, so at the same ``temperature`` it trains identically; the paper's
            ablation is the untempered one, ``loss="nll", temperature=1``.
        target: ``"soft"`` (LM soft labels) or ``"bow"`` (normalised bag of words, ablation).
        input: ``"lm"`` (LM hidden state) or ``"embeddings"`` (``embedding_model.encode``, ablation).
        kl_direction: ``"target_model"`` KL(target||model) (authors' code) or ``"model_target"``.
        student_temperature: True divides the decoder logits by ``temperature`` (authors' code);
            False or a float sets it explicitly.
        hidden_sizes, activation, dropout, learn_priors: ProdLDA encoder settings.
        lr, betas, lr_scheduler, batch_size, num_epochs: Adam training (``"cosine"`` decay or None).
        num_samples: posterior samples averaged at inference.
        seed: makes training and inference reproducible (None: not seeded).
        prompt_template, max_doc_tokens: teacher prompt and truncation (see SoftLabelTeacher).
        word_scoring: ``"first_token"`` (the paper: a word's logit is its first sub-token's) or
            ``"full_word"`` (log-probability of all of the word's tokens; opt-in, see SoftLabelTeacher).
            Measured on 1,000 StackOverflow titles with SmolLM2: no purity gain (.567 vs .556) for an
            84x slower teacher pass; ``center_logits`` helps more (.616).
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``.
        cache_dir: teacher cache root (default ``$DSL_PLUGIN_CACHE`` or ``~/.cache/dsl_plugin``).
        embedding_model: object with ``encode(list[str]) -> array`` for ``input="embeddings"``.
        use_partitions: OCTIS: train on the train partition, infer the test partition.
        verbose: progress bars and log lines.
    """

    def __init__(self, num_topics: int = 20, language_model: str = DEFAULT_LM, temperature: float = 3.0,
                 center_logits: bool = False,
                 reconstruction_weight: float | None = None, loss: str = "kl", target: str = "soft",
                 input: str = "lm", kl_direction: str = "target_model", student_temperature: bool | float = True,
                 hidden_sizes: Sequence[int] = (200, 200), activation: str = "softplus", dropout: float = 0.2,
                 learn_priors: bool = True, lr: float = 2e-3, betas: Sequence[float] = (0.99, 0.99),
                 lr_scheduler: str | None = "cosine", batch_size: int = 64, num_epochs: int = 100,
                 num_samples: int = 10, seed: int | None = 0, prompt_template: str = DEFAULT_PROMPT,
                 max_doc_tokens: int = 128, word_scoring: str = "first_token", device: str = "auto",
                 cache_dir: str | None = None, embedding_model: Any = None, use_partitions: bool = False, verbose: bool = True):
        super().__init__()
        self.set_hyperparameters(**{k: v for k, v in locals().items() if k in _PARAMS})
        self.teacher_ = None

    # ------------------------------------------------------------------ parameters
    def set_hyperparameters(self, **kwargs) -> "DSL":
        """Set hyper-parameters (also as attributes); unknown names raise ``ValueError``."""
        unknown = sorted(set(kwargs) - set(_PARAMS))
        if unknown:
            raise ValueError(f"unknown DSL hyper-parameter(s): {unknown}")
        new = {k: _cast(k, v) for k, v in kwargs.items()}
        # validate before assigning: a rejected value must leave the model unchanged
        if "num_topics" in new and int(new["num_topics"]) < 1:
            raise ValueError(f"num_topics must be >= 1, got {new['num_topics']}")
        for name, allowed in (("loss", {"kl", "nll"}), ("target", {"soft", "bow"}), ("input", {"lm", "embeddings"}),
                              ("kl_direction", {"target_model", "model_target"}),
                              ("word_scoring", {"first_token", "full_word"})):
            if name in new and new[name] not in allowed:
                raise ValueError(f"{name} must be one of {sorted(allowed)}, got {new[name]!r}")
        for k, v in new.items():
            setattr(self, k, v)
            self.hyperparameters[k] = v
        return self

    def get_params(self, deep: bool = True) -> dict:
        """scikit-learn style parameters."""
        return {k: getattr(self, k) for k in _PARAMS}

    def set_params(self, **params) -> "DSL":
        return self.set_hyperparameters(**params)

    def partitioning(self, use_partitions: bool, update_with_test: bool = False) -> None:
        """OCTIS API: whether :meth:`train_model` uses the dataset's train/test partitions."""
        self.use_partitions = bool(use_partitions)
        self.hyperparameters["use_partitions"] = self.use_partitions

    # ------------------------------------------------------------------ helpers
    def _teacher(self) -> SoftLabelTeacher:
        t = self.teacher_
        if (t is None or t.model != self.language_model or t.prompt_template != self.prompt_template
                or t.max_doc_tokens != self.max_doc_tokens or t.cache_dir != self.cache_dir
                or t.word_scoring != self.word_scoring):
            t = SoftLabelTeacher(model=self.language_model, prompt_template=self.prompt_template,
                                 max_doc_tokens=self.max_doc_tokens, device=self.device, cache_dir=self.cache_dir,
                                 show_progress=self.verbose, word_scoring=self.word_scoring)
            self.teacher_ = t
        return t

    def _weight(self) -> float:
        if self.reconstruction_weight is not None:
            return float(self.reconstruction_weight)
        return 1.0 if (self.loss == "nll" and self.target == "bow") else 1e3

    def _student_temperature(self) -> float:
        st = self.student_temperature
        if isinstance(st, bool):
            return float(self.temperature) if st else 1.0
        return float(st)

    def _bow(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        index = {w: i for i, w in enumerate(self.vocabulary_)}
        bow = np.zeros((len(token_lists), len(index)), np.float32)
        for r, toks in enumerate(token_lists):
            for w in toks:
                j = index.get(w)
                if j is not None:
                    bow[r, j] += 1
        return bow

    def _inputs(self, documents: Sequence[str], teacher_out: TeacherOutputs | None) -> np.ndarray:
        if self.input == "lm":
            return teacher_out.hidden
        if self.embedding_model is None:
            raise ValueError("input='embeddings' needs embedding_model (an object with .encode(list[str]))")
        return np.asarray(self.embedding_model.encode(list(documents)), dtype=np.float32)

    def _targets(self, teacher_out: TeacherOutputs | None, token_lists) -> np.ndarray:
        if self.target == "soft":
            logits = teacher_out.logits
            if self.center_logits:
                logits = logits - logits.mean(axis=0, keepdims=True)
            return softmax_with_temperature(logits, self.temperature)
        bow = self._bow(token_lists)
        if self.loss == "kl":
            sums = bow.sum(1, keepdims=True)
            uniform = np.full_like(bow, 1.0 / bow.shape[1])
            bow = np.where(sums > 0, bow / np.maximum(sums, 1), uniform)
        return bow

    def _needs_teacher(self) -> bool:
        return self.input == "lm" or self.target == "soft"

    def _seed_all(self) -> torch.Generator:
        g = torch.Generator()
        if self.seed is not None:
            torch.manual_seed(int(self.seed))
            np.random.seed(int(self.seed) % 2**32)
            g.manual_seed(int(self.seed))
        else:
            g.seed()
        return g

    # ------------------------------------------------------------------ core API
    def fit(self, documents: Sequence[str], vocabulary: Sequence[str] | None = None, vocabulary_size: int = 2000,
            token_lists: Sequence[Sequence[str]] | None = None) -> "DSL":
        """Fit on raw documents.

        Args:
            documents: raw texts (fed to the LM).
            vocabulary: topic vocabulary; built from ``documents`` when None.
            vocabulary_size: |V| when the vocabulary is built.
            token_lists: preprocessed tokens per document (only needed for ``target="bow"``;
                computed with :func:`dsl_plugin.data.tokenize` when None).
        """
        if token_lists is not None and len(token_lists) != len(documents):
            raise ValueError(f"token_lists length ({len(token_lists)}) does not match documents ({len(documents)})")
        corpus = prepare_corpus(documents, vocabulary_size=vocabulary_size, vocabulary=vocabulary)
        self.vocabulary_ = list(corpus.vocabulary)
        tokens = token_lists if token_lists is not None else [corpus.tokens[i] for i in np.argsort(corpus.order)]
        self._fit_arrays(list(documents), tokens)
        return self

    def _fit_arrays(self, documents: list[str], token_lists, teacher_out: TeacherOutputs | None = None) -> None:
        gen = self._seed_all()
        if teacher_out is None and self._needs_teacher():
            teacher_out = self._teacher().compute(documents, self.vocabulary_)
        x = self._inputs(documents, teacher_out)
        y = self._targets(teacher_out, token_lists)
        dev = resolve_device(self.device)
        self.network_ = ProdLDANetwork(x.shape[1], len(self.vocabulary_), self.num_topics, tuple(self.hidden_sizes),
                                       self.activation, self.dropout, self.learn_priors).to(dev)
        cfg = TrainConfig(batch_size=self.batch_size, num_epochs=self.num_epochs, lr=self.lr,
                          betas=tuple(self.betas), lr_scheduler=self.lr_scheduler, weight=self._weight(),
                          loss=self.loss, kl_direction=self.kl_direction,
                          student_temperature=self._student_temperature(), show_progress=self.verbose)
        self.input_size_ = int(x.shape[1])
        self.loss_history_ = train_network(self.network_, torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev),
                                           cfg, gen)
        self._generator = gen
        self.document_topic_ = infer_theta(self.network_, torch.from_numpy(x).to(dev), self.num_samples, gen)

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise RuntimeError("this DSL model is not fitted yet: call fit() or train_model() first")

    def transform(self, documents: Sequence[str], teacher_out: TeacherOutputs | None = None) -> np.ndarray:
        """Document-topic proportions (N x K) for new documents (teacher outputs come from the cache)."""
        self._check_fitted()
        if len(documents) == 0:
            raise ValueError("empty corpus: no documents were given")
        if teacher_out is None and self.input == "lm":
            teacher_out = self._teacher().compute(list(documents), self.vocabulary_)
        x = self._inputs(documents, teacher_out)
        if x.shape[1] != self.input_size_:
            raise ValueError(f"input size {x.shape[1]} does not match the fitted model's {self.input_size_}")
        gen = torch.Generator()
        gen.manual_seed(0 if self.seed is None else int(self.seed))
        dev = next(self.network_.parameters()).device
        return infer_theta(self.network_, torch.from_numpy(x).to(dev), self.num_samples, gen)

    def fit_transform(self, documents: Sequence[str], **kwargs) -> np.ndarray:
        """:meth:`fit` then return the training documents' topic proportions."""
        return self.fit(documents, **kwargs).document_topic_

    @property
    def topic_word_matrix_(self) -> np.ndarray:
        """Decoder weights beta (K x |V|), as OCTIS's ProdLDA reports them."""
        self._check_fitted()
        return self.network_.beta.detach().cpu().numpy()

    def get_topics(self, top_n: int = 10) -> list[list[str]]:
        """Top ``top_n`` words of each topic."""
        beta = self.topic_word_matrix_
        top = np.argsort(-beta, axis=1)[:, :top_n]
        return [[self.vocabulary_[j] for j in row] for row in top]

    def plot_topics(self, path: str | os.PathLike | None = None, top_n: int = 10, max_topics: int = 12,
                    topics: Sequence[int] | None = None):
        """Bar charts of the topics' top words (largest topics of the training documents first), through
        :func:`dsl_plugin.plots.topic_words`; saved to ``path`` when given. Returns the matplotlib ``Figure``.
        :func:`dsl_plugin.plots.document_topics` draws ``document_topic_`` (topic sizes + heatmap)."""
        from .plots import topic_words

        return topic_words(self.topic_word_matrix_, self.vocabulary_, top_n=top_n, max_topics=max_topics,
                           theta=getattr(self, "document_topic_", None), topics=topics,
                           title=f"DSL ({self.language_model}), K={self.num_topics}", path=path)

    # ------------------------------------------------------------------ OCTIS API
    def train_model(self, dataset, hyperparameters: dict | None = None, top_words: int = 10) -> dict:
        """OCTIS entry point: fit on an OCTIS ``Dataset`` and return the model output dictionary.

        Raw text comes from ``dataset.get_raw_corpus()`` (see :func:`dsl_plugin.load_dataset`) or from
        ``raw_documents.jsonl`` next to ``dataset.dataset_path``; otherwise the joined tokens are used,
        with a warning.
        """
        if hyperparameters:
            self.set_hyperparameters(**dict(hyperparameters))
        vocabulary = list(dataset.get_vocabulary() or [])
        corpus = dataset.get_corpus()
        if not corpus:
            raise ValueError("empty corpus: the OCTIS dataset has no documents")
        if not vocabulary:
            raise ValueError("the OCTIS dataset has no vocabulary")
        raw = _raw_corpus(dataset)
        if len(raw) != len(corpus):
            raise ValueError(f"raw documents ({len(raw)}) and OCTIS corpus ({len(corpus)}) are not aligned")
        self.vocabulary_ = vocabulary
        meta = dataset.get_metadata() or {}
        n = len(corpus)
        if self.use_partitions:
            n_train = int(meta.get("last-training-doc", n))
            n_test_start = int(meta.get("last-validation-doc", n_train))
            train_idx, test_idx = np.arange(n_train), np.arange(n_test_start, n)
        else:
            train_idx, test_idx = np.arange(n), np.arange(0)
        # one teacher pass (one cache entry) over every document, train and test together, then sliced
        out = self._teacher().compute(raw, vocabulary) if self._needs_teacher() else None
        self._fit_arrays([raw[i] for i in train_idx], [corpus[i] for i in train_idx], _take(out, train_idx))
        result = {"topics": self.get_topics(top_words), "topic-word-matrix": self.topic_word_matrix_,
                  "topic-document-matrix": self.document_topic_.T}
        if len(test_idx):
            result["test-topic-document-matrix"] = self.transform([raw[i] for i in test_idx], _take(out, test_idx)).T
        return result

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Save to a folder: ``model.safetensors`` (network) + ``config.json`` (params, vocabulary). No pickle."""
        from safetensors.torch import save_file

        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.network_.state_dict().items()}
        save_file(state, str(path / "model.safetensors"))
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items() if k not in _NOT_SAVED}
        config = {"format": 1, "params": params, "vocabulary": self.vocabulary_, "input_size": self.input_size_}
        (path / "config.json").write_text(json.dumps(config, indent=1))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, **overrides) -> "DSL":
        """Load a model saved by :meth:`save` (``overrides`` e.g. ``device``, ``embedding_model``)."""
        from safetensors.torch import load_file

        path = Path(path)
        for f in ("config.json", "model.safetensors"):
            if not (path / f).exists():
                raise FileNotFoundError(f"{path / f} not found: not a saved DSL model")
        config = json.loads((path / "config.json").read_text())
        params = {**config["params"], **overrides}
        model = cls(**params)
        model.vocabulary_ = config["vocabulary"]
        model.input_size_ = int(config["input_size"])
        net = ProdLDANetwork(model.input_size_, len(model.vocabulary_), model.num_topics, tuple(model.hidden_sizes),
                             model.activation, model.dropout, model.learn_priors)
        net.load_state_dict(load_file(str(path / "model.safetensors")))
        model.network_ = net.to(resolve_device(model.device)).eval()
        return model


def _take(out: TeacherOutputs | None, idx: np.ndarray) -> TeacherOutputs | None:
    if out is None or len(idx) == len(out.logits):
        return out
    return TeacherOutputs(logits=out.logits[idx], hidden=out.hidden[idx], n_computed=out.n_computed,
                          cache_path=out.cache_path)
