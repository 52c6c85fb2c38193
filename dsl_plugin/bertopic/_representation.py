"""``DSLRepresentation``: BERTopic topic words from the DSL teacher's soft labels."""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from bertopic.representation import BaseRepresentation
from scipy.sparse import csr_matrix

from ..teacher import DEFAULT_TEMPERATURE, SoftLabelTeacher, single_token_words, softmax_with_temperature
from ._backend import DSLBackend

logger = logging.getLogger(__name__)

MODES = ("soft", "combined", "rerank")
WEIGHTINGS = ("mean", "lift", "kl")
_EXACT_CACHE: dict[tuple, np.ndarray] = {}


def _load_tokenizer(teacher: SoftLabelTeacher):
    """The teacher LM's tokenizer, without loading the LM weights when it can be found alone."""
    if teacher.lm is not None:
        return teacher.tokenizer
    from transformers import AutoTokenizer

    from ..cache import default_cache_dir
    from ..lm import PACKAGED_LMS, model_identity

    name = teacher.model
    if name in PACKAGED_LMS:  # the safetensors copy written by dsl_plugin.lm.load_language_model
        converted = default_cache_dir() / "models" / f"{name}-{model_identity(name)['version']}"
        if (converted / "tokenizer_config.json").exists():
            return AutoTokenizer.from_pretrained(converted)
    elif not name.endswith(".gguf"):
        try:
            return AutoTokenizer.from_pretrained(name, revision=teacher.config.revision)
        except (OSError, ValueError):
            pass
    return teacher.tokenizer  # loads the LM too


def exact_word_mask(teacher: SoftLabelTeacher, vocabulary: Sequence[str]) -> np.ndarray:
    """True for the words that are a single token of the teacher LM (``" " + word``).

    The teacher scores a word by the logit of its first sub-token, so for the other words the soft
    label is the probability of a prefix (``"astra"`` -> ``" a"``, ``"isles"`` -> ``" is"``), which
    the LM gives to many documents for reasons unrelated to the word.
    """
    key = (teacher.model, teacher.config.revision, len(vocabulary), hash(tuple(vocabulary)))
    mask = _EXACT_CACHE.get(key)
    if mask is None:
        mask = single_token_words(_load_tokenizer(teacher), vocabulary)
        _EXACT_CACHE[key] = mask
    return mask


class DSLRepresentation(BaseRepresentation):
    """Topic words from the mean soft label of each topic's documents.

    For topic k with documents D_k, ``p_k = mean_{d in D_k} softmax(logits_d / temperature)`` is a
    distribution over the teacher vocabulary: the words the language model would use to name the
    theme of those documents (weighted against the corpus mean, see ``weighting``). Every topic, the outlier topic -1
    included, gets ``top_n_words`` words of the teacher vocabulary with descending scores.

    Args:
        backend: the :class:`DSLBackend` holding the soft labels. None: use the topic model's
            ``embedding_model`` if it is a :class:`DSLBackend`, else ``teacher``.
        teacher: a :class:`~dsl_plugin.SoftLabelTeacher` to use when there is no DSLBackend
            (e.g. BERTopic with a sentence-transformers model); needs ``vocabulary``.
        vocabulary: the teacher vocabulary when ``teacher`` is used.
        temperature: soft-label temperature tau (the DSL default, 3).
        mode: ``"soft"``: the words with the best soft-label score s_k (see ``weighting``), replacing
            the c-TF-IDF words;
            ``"combined"``: score = (1 - ctfidf_weight) * s_k + ctfidf_weight * c_k, where s_k is
            normalised to sum 1 and c_k is the topic's c-TF-IDF row restricted to the teacher
            vocabulary, normalised to sum 1 (words the CountVectorizer does not know get 0);
            ``"rerank"``: keep the incoming candidate words (e.g. BERTopic's 30 c-TF-IDF words or the
            previous model of a chain) that are in the teacher vocabulary, ordered by s_k, then fill
            up to ``top_n_words`` with the best remaining soft-label words.
        ctfidf_weight: weight of c-TF-IDF in ``"combined"`` mode, in [0, 1].
        weighting: words the LM predicts for almost every document (generic labels such as "topic",
            "write", "article") dominate plain means, so p_k is compared with the mean soft label of
            all documents p_all: ``"lift"`` (default) score = p_k * p_k / p_all; ``"kl"`` score =
            p_k * log(p_k / p_all) (each word's term of KL(p_k || p_all): only words more likely
            in the topic than in the corpus score > 0); ``"mean"`` score = p_k. Scores are
            renormalised to sum 1 over the ranked words (``"lift"``, ``"mean"``).
        exact_words: rank only the words that are a single token of the LM. The teacher scores a
            word by its first sub-token, so e.g. "astra" would carry the probability of " a"; such
            words fill the list only if fewer than ``top_n_words`` exact words exist. Needs the LM's
            tokenizer (loaded alone when possible); set False to rank the whole vocabulary.
        top_n_words: words per topic.

    Slices: ``topics_over_time``, ``topics_per_class`` and ``hierarchical_topics`` call the model once
    per slice (timestamp, class, merged cluster) with that slice's documents; each topic's words then
    come from the soft labels of its documents in the slice, weighed against the mean soft label of
    the whole corpus (kept from the last call with the whole corpus as ``background_``).

    Attributes:
        background_: p_all of the last call that received the whole corpus (None before).
    """

    def __init__(self, backend: DSLBackend | None = None, teacher: SoftLabelTeacher | None = None,
                 vocabulary: Sequence[str] | None = None, temperature: float = DEFAULT_TEMPERATURE, mode: str = "soft",
                 ctfidf_weight: float = 0.5, weighting: str = "lift", exact_words: bool = True,
                 top_n_words: int = 10):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not 0.0 <= float(ctfidf_weight) <= 1.0:
            raise ValueError(f"ctfidf_weight must be in [0, 1], got {ctfidf_weight}")
        if float(temperature) <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if int(top_n_words) < 1:
            raise ValueError(f"top_n_words must be >= 1, got {top_n_words}")
        if teacher is not None and vocabulary is None and backend is None:
            raise ValueError("a teacher needs its vocabulary: pass vocabulary=...")
        self.backend = backend
        self.teacher = teacher
        self.vocabulary = vocabulary
        self.temperature = temperature
        self.mode = mode
        self.ctfidf_weight = ctfidf_weight
        self.weighting = weighting
        self.exact_words = exact_words
        self.top_n_words = top_n_words
        self.background_: np.ndarray | None = None
        self._background_vocab: list[str] | None = None

    # ------------------------------------------------------------------ soft labels
    def _source(self, topic_model):
        if self.backend is not None:
            return self.backend
        emb = getattr(topic_model, "embedding_model", None)
        if isinstance(emb, DSLBackend):
            return emb
        if self.teacher is not None:
            return None
        raise ValueError("DSLRepresentation needs soft labels: use a DSLBackend as the BERTopic embedding_model, "
                         "or pass backend=DSLBackend(...) or teacher=SoftLabelTeacher(...) with vocabulary=...")

    def soft_labels(self, topic_model, documents: pd.DataFrame) -> tuple[list[str], np.ndarray]:
        """(vocabulary, soft labels aligned with the rows of ``documents``).

        Documents are sent in ``ID`` order, the order of the corpus given to ``fit`` or
        ``update_topics``, so a fresh backend or teacher hits the cache entry of that call.
        """
        texts = ["" if d is None else str(d) for d in documents["Document"].tolist()]
        order = (np.argsort(documents["ID"].to_numpy(), kind="stable") if "ID" in documents.columns
                 else np.arange(len(texts)))
        ordered = [texts[i] for i in order]
        source = self._source(topic_model)
        if source is not None:
            probs = source.soft_labels(ordered, float(self.temperature))
            vocab = list(source.vocabulary_)
        else:
            vocab = list(self.vocabulary)
            probs = softmax_with_temperature(self.teacher.compute(ordered, vocab).logits, float(self.temperature))
        aligned = np.empty_like(probs)
        aligned[order] = probs
        return vocab, aligned

    def _exact(self, topic_model, vocab: list[str]) -> np.ndarray:
        if not self.exact_words:
            return np.ones(len(vocab), bool)
        source = self._source(topic_model)
        teacher = source.teacher if source is not None else self.teacher
        try:
            return exact_word_mask(teacher, vocab)
        except Exception as exc:  # noqa: BLE001 - no tokenizer: rank every word
            logger.warning("DSLRepresentation: cannot load the tokenizer of %s (%s); ranking all words",
                           teacher.model, exc)
            return np.ones(len(vocab), bool)

    # ------------------------------------------------------------------ BERTopic API
    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf: csr_matrix,
                       topics: Mapping[int, list[tuple[str, float]]]) -> Mapping[int, list[tuple[str, float]]]:
        """Topic words from soft labels (see the class docstring); same format as BERTopic's."""
        vocab, probs = self.soft_labels(topic_model, documents)
        labels = documents["Topic"].to_numpy()
        keys = sorted(int(k) for k in topics)
        background = self._background(documents, vocab, probs)
        exact = self._exact(topic_model, vocab)
        ctfidf = (self._ctfidf_on_vocabulary(topic_model, documents, c_tf_idf, vocab) if self.mode == "combined"
                  else None)
        index = {w: j for j, w in enumerate(vocab)}
        n = min(int(self.top_n_words), len(vocab))
        out: dict[int, list[tuple[str, float]]] = {}
        for key in keys:
            mask = labels == key
            if not mask.any():
                logger.warning("DSLRepresentation: topic %s has no documents; using the corpus mean soft label", key)
            p = probs[mask].mean(axis=0).astype(np.float64) if mask.any() else background.copy()
            score = self._weight(p, background, exact)
            if ctfidf is not None and key in ctfidf:
                soft = np.maximum(score, 0.0)
                total = soft[exact].sum() if exact.any() else soft.sum()
                w = float(self.ctfidf_weight)
                score = (1.0 - w) * soft / (total if total > 0 else 1.0) + w * ctfidf[key]
            # exact words first, ranked by score; the others only fill up
            rank = score + np.where(exact, 0.0, -1e6)
            if self.mode == "rerank":
                out[key] = self._rerank(rank, score, topics[key], index, vocab, n)
            else:
                top = np.lexsort((np.arange(len(rank)), -rank))[:n]  # descending, ties by vocabulary order
                out[key] = _descending([(vocab[j], float(score[j])) for j in top])
        return out

    def _background(self, documents: pd.DataFrame, vocab: list[str], probs: np.ndarray) -> np.ndarray:
        """p_all: the mean soft label of the whole corpus, also when ``documents`` is one slice of it.

        BERTopic passes the whole corpus (``ID`` = 0..N-1) in ``fit`` / ``update_topics`` /
        ``reduce_topics``; that mean is kept as ``background_``. ``topics_over_time``,
        ``topics_per_class`` (no ``ID`` column) and ``hierarchical_topics`` (a subset of the IDs) pass
        one slice; its topics are weighed against the kept corpus mean, not the slice's own mean
        (in a slice with one topic that would be p_k itself: "lift" would fall back to the plain
        mean and "kl" would score every word 0).
        """
        mean = probs.mean(axis=0).astype(np.float64)
        ids = documents["ID"].to_numpy() if "ID" in documents.columns else None
        if ids is not None and np.array_equal(np.sort(ids), np.arange(len(ids))):
            self.background_, self._background_vocab = mean, list(vocab)
            return mean
        if getattr(self, "background_", None) is not None and self._background_vocab == list(vocab):
            return self.background_
        logger.warning("DSLRepresentation got a slice of the corpus (topics_over_time, topics_per_class, ...) "
                       "before the whole corpus: its topics are weighed against the slice's mean soft label. "
                       "Fit with this representation model or call update_topics(docs) first.")
        return mean

    def _weight(self, p: np.ndarray, background: np.ndarray, exact: np.ndarray) -> np.ndarray:
        pos = np.maximum(p, 1e-12)
        if self.weighting == "kl":
            return pos * np.log(pos / np.maximum(background, 1e-12))
        score = pos * pos / np.maximum(background, 1e-12) if self.weighting == "lift" else pos.copy()
        total = score[exact].sum() if exact.any() else score.sum()
        return score / total

    @staticmethod
    def _rerank(rank: np.ndarray, score: np.ndarray, candidates, index: dict[str, int], vocab: list[str], n: int):
        cand = list(dict.fromkeys(index[w] for w, _ in candidates if w in index))
        cand.sort(key=lambda j: (-rank[j], j))
        chosen = cand[:n]
        if len(chosen) < n:
            taken = set(chosen)
            chosen += [j for j in np.lexsort((np.arange(len(rank)), -rank)) if j not in taken][: n - len(chosen)]
        return _descending([(vocab[j], float(score[j])) for j in chosen])

    @staticmethod
    def _ctfidf_on_vocabulary(topic_model, documents: pd.DataFrame, c_tf_idf, vocab: list[str]):
        """{topic: c-TF-IDF row over the teacher vocabulary, normalised to sum 1}."""
        try:
            names = topic_model.vectorizer_model.get_feature_names_out()
        except Exception as exc:  # noqa: BLE001 - vectorizer without feature names
            logger.warning("DSLRepresentation(mode='combined'): no c-TF-IDF words (%s); using soft labels only", exc)
            return None
        labels = sorted(int(t) for t in documents["Topic"].unique())
        if c_tf_idf is None or c_tf_idf.shape[0] != len(labels) or c_tf_idf.shape[1] != len(names):
            logger.warning("DSLRepresentation(mode='combined'): c-TF-IDF matrix does not match the topics; "
                           "using soft labels only")
            return None
        col = {w: j for j, w in enumerate(names)}
        cols = np.array([col.get(w, -1) for w in vocab])
        known = cols >= 0
        dense = np.zeros((len(labels), len(vocab)), np.float64)
        sub = csr_matrix(c_tf_idf)[:, cols[known]].toarray()
        dense[:, known] = np.maximum(sub, 0)
        sums = dense.sum(axis=1, keepdims=True)
        dense = np.where(sums > 0, dense / np.where(sums > 0, sums, 1), 0.0)
        return {t: dense[i] for i, t in enumerate(labels)}


def _descending(words: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Make scores non-increasing along the given order (a word placed after a higher-ranked group,
    e.g. a fill-up word, gets at most the score of the word before it)."""
    out, last = [], np.inf
    for w, s in words:
        s = min(s, last)
        out.append((w, s))
        last = s
    return out
