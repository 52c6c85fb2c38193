"""Label-based evaluation metrics for topic models (paper appendix B).

Two families of metrics compare document-topic distributions with
ground-truth class labels:

* Purity-style scores on hard assignments (each document goes to its
  argmax topic): :func:`purity`, :func:`inverse_purity`,
  :func:`harmonic_purity` and :func:`purity_f_measure`.
* A retrieval score on the full distributions:
  :func:`retrieval_precision_at_k` ranks documents by KL divergence and
  reports the share of the top-k neighbours that share the query's label.

The pure functions take ``theta`` as documents x topics by default; pass
``doc_axis=1`` for the topics x documents matrices that OCTIS returns. The
OCTIS metric classes (:class:`Purity`, :class:`InversePurity`,
:class:`HarmonicPurity`, :class:`PurityFMeasure`,
:class:`RetrievalPrecision`) do that for you.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats.contingency import crosstab

from ._octis import AbstractMetric  # OCTIS's base class, or a stand-in without OCTIS

__all__ = [
    "contingency",
    "purity",
    "inverse_purity",
    "harmonic_purity",
    "purity_f_measure",
    "retrieval_precision_at_k",
    "labels_from_dataset",
    "Purity",
    "InversePurity",
    "HarmonicPurity",
    "PurityFMeasure",
    "RetrievalPrecision",
]

KL_DIRECTIONS = ("query||candidate", "candidate||query")
MATRIX_KEYS = ("topic-document-matrix", "test-topic-document-matrix")
PARTITIONS = ("train", "val", "test", "all")


# ---------------------------------------------------------------------------
# Input helpers
# ---------------------------------------------------------------------------


def _encode_labels(labels: Sequence[Hashable] | ArrayLike) -> np.ndarray:
    """Map hashable labels to integer codes in order of first appearance.

    A dict is used instead of ``np.unique`` so that labels of mixed,
    unorderable types (e.g. ``1`` and ``"a"``) are accepted.

    Raises:
        ValueError: If labels are None, empty or unhashable (multi-label).
    """
    if labels is None:
        raise ValueError("labels is None (does the dataset have labels?)")
    index: dict[Hashable, int] = {}
    try:
        codes = [index.setdefault(lab, len(index)) for lab in labels]
    except TypeError as err:
        raise ValueError(
            "labels must be hashable single labels; multi-label documents "
            f"are not supported ({err})"
        ) from err
    if not codes:
        raise ValueError("labels is empty")
    return np.asarray(codes, dtype=np.int64)


def _as_theta(theta: ArrayLike, doc_axis: int) -> np.ndarray:
    """Return ``theta`` as a float documents x topics array."""
    arr = np.asarray(theta, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"theta must be 2-D, got shape {arr.shape}")
    if doc_axis not in (0, 1):
        raise ValueError(f"doc_axis must be 0 or 1, got {doc_axis}")
    if doc_axis == 1:
        arr = arr.T
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"theta is empty: {arr.shape[0]} documents x {arr.shape[1]} topics")
    if not np.isfinite(arr).all():
        raise ValueError("theta contains NaN or infinite values")
    return arr


def _check_lengths(n_docs: int, n_labels: int) -> None:
    if n_docs != n_labels:
        raise ValueError(
            f"number of documents in theta ({n_docs}) != number of labels ({n_labels})"
        )


def _assignments_and_codes(
    theta: ArrayLike, labels: Sequence[Hashable], doc_axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hard topic assignments and integer label codes, validated.

    ``theta`` may be a 2-D distribution matrix (argmax is taken over the
    topic axis; ties go to the lowest topic index, as ``np.argmax`` does) or
    a 1-D vector of precomputed topic assignments.
    """
    arr = np.asarray(theta)
    if arr.ndim == 1:
        if arr.size == 0:
            raise ValueError("assignments are empty")
        assign = arr
    else:
        assign = _as_theta(arr, doc_axis).argmax(axis=1)
    codes = _encode_labels(labels)
    _check_lengths(len(assign), len(codes))
    return assign, codes


# ---------------------------------------------------------------------------
# Purity family
# ---------------------------------------------------------------------------


def contingency(assignments: ArrayLike, labels: Sequence[Hashable]) -> np.ndarray:
    """Topic x class contingency table ``n_ij`` (via ``scipy.stats.contingency.crosstab``).

    Args:
        assignments: 1-D sequence of N topic ids (any sortable values).
        labels: N hashable class labels.

    Returns:
        Integer array of shape (n_topics_seen, n_classes). Rows are the
        distinct assignment values in ascending order (topics that receive
        no document are omitted); columns are the distinct labels in order
        of first appearance.

    Raises:
        ValueError: On empty input or a length mismatch.
    """
    assign = np.asarray(assignments)
    if assign.ndim != 1:
        raise ValueError(f"assignments must be 1-D, got shape {assign.shape}")
    if assign.size == 0:
        raise ValueError("assignments are empty")
    codes = _encode_labels(labels)
    _check_lengths(len(assign), len(codes))
    return crosstab(assign, codes).count


def _table(theta: ArrayLike, labels: Sequence[Hashable], doc_axis: int) -> np.ndarray:
    assign, codes = _assignments_and_codes(theta, labels, doc_axis)
    return crosstab(assign, codes).count


def purity(theta: ArrayLike, labels: Sequence[Hashable], *, doc_axis: int = 0) -> float:
    """Purity: ``(1/N) * sum_topics max_class n_ij`` (Zhao & Karypis, 2001).

    Args:
        theta: Document-topic matrix (N x K, or K x N with ``doc_axis=1``),
            each document assigned to its argmax topic (ties -> lowest
            topic index); or a 1-D vector of N topic assignments.
        labels: N hashable ground-truth labels.
        doc_axis: Axis of ``theta`` that indexes documents.

    Returns:
        Purity in (0, 1].
    """
    n = _table(theta, labels, doc_axis)
    return float(n.max(axis=1).sum() / n.sum())


def inverse_purity(theta: ArrayLike, labels: Sequence[Hashable], *, doc_axis: int = 0) -> float:
    """Inverse purity: ``(1/N) * sum_classes max_topic n_ij``.

    Arguments as in :func:`purity`.
    """
    n = _table(theta, labels, doc_axis)
    return float(n.max(axis=0).sum() / n.sum())


def harmonic_purity(theta: ArrayLike, labels: Sequence[Hashable], *, doc_axis: int = 0) -> float:
    """Harmonic mean of purity and inverse purity: ``2*P*IP / (P + IP)``.

    This is the "harmonic purity" variant computed by the DSL authors'
    code. It differs from :func:`purity_f_measure` (the clustering
    F-measure described in the paper's appendix B and used by TopicGPT).
    Arguments as in :func:`purity`.
    """
    n = _table(theta, labels, doc_axis)
    total = n.sum()
    p = n.max(axis=1).sum() / total
    ip = n.max(axis=0).sum() / total
    return float(2.0 * p * ip / (p + ip))


def purity_f_measure(theta: ArrayLike, labels: Sequence[Hashable], *, doc_axis: int = 0) -> float:
    """Clustering F-measure: ``sum_class (n_j/N) * max_topic F1(j, k)``.

    ``F1(j, k) = 2 * n_jk / (n_j + n_k)`` is the F1 of topic k taken as a
    retriever of class j (precision ``n_jk/n_k``, recall ``n_jk/n_j``).
    This is the variant used by TopicGPT (Zhao & Karypis, 2001; Pham et al.,
    2024) and the one the paper's appendix B describes; not the same as
    :func:`harmonic_purity`. Arguments as in :func:`purity`.
    """
    n = _table(theta, labels, doc_axis).astype(np.float64)
    n_topic = n.sum(axis=1, keepdims=True)  # n_k, shape (K, 1)
    n_class = n.sum(axis=0, keepdims=True)  # n_j, shape (1, C)
    f1 = 2.0 * n / (n_topic + n_class)
    return float((n_class[0] / n.sum() * f1.max(axis=0)).sum())


# ---------------------------------------------------------------------------
# Retrieval precision
# ---------------------------------------------------------------------------


def nmi(theta: ArrayLike, labels: Sequence[Hashable], *, doc_axis: int = 0) -> float:
    """Normalised mutual information of argmax topic assignments and labels (scikit-learn, arithmetic mean)."""
    from sklearn.metrics import normalized_mutual_info_score

    assign, codes = _assignments_and_codes(theta, labels, doc_axis)
    return float(normalized_mutual_info_score(codes, assign))


def ari(theta: ArrayLike, labels: Sequence[Hashable], *, doc_axis: int = 0) -> float:
    """Adjusted Rand index of argmax topic assignments and labels (scikit-learn)."""
    from sklearn.metrics import adjusted_rand_score

    assign, codes = _assignments_and_codes(theta, labels, doc_axis)
    return float(adjusted_rand_score(codes, assign))


def retrieval_precision_at_k(
    theta: ArrayLike,
    labels: Sequence[Hashable],
    ks: Iterable[int] = (5, 10),
    *,
    direction: str = "query||candidate",
    chunk_size: int = 512,
    eps: float = 1e-10,
    doc_axis: int = 0,
    dtype: type | np.dtype = np.float64,
) -> dict[int, float]:
    """Label precision of the k nearest documents under KL divergence.

    Each document in turn is a query; every OTHER document (the query's own
    row is excluded, exact duplicates of it are not) is ranked by ascending
    KL divergence, and the share of the top k that carry the query's label
    is averaged over all queries.

    Rows are clipped to ``eps`` and renormalised, and the divergence is
    computed as ``KL(p||q) = sum p log p - sum p log q`` for ``chunk_size``
    queries at a time, so memory is O(chunk_size * N) rather than O(N^2).

    Ties: the k-th smallest divergence is found with ``np.partition``; all
    candidates strictly below it are taken, and candidates exactly equal to
    it fill the remaining slots in ascending document-index order. (The
    set ``np.argpartition`` picks among boundary ties is unspecified, so it
    is not used to select them.) Ties are exact floating-point equalities,
    which in practice arise from identical topic rows.

    Args:
        theta: Document-topic matrix (N x K, or K x N with ``doc_axis=1``).
        labels: N hashable ground-truth labels.
        ks: Cut-offs; each must satisfy ``1 <= k <= N - 1``.
        direction: ``"query||candidate"`` (default) ranks by
            KL(query || candidate); ``"candidate||query"`` ranks by
            KL(candidate || query).
        chunk_size: Number of query rows processed at once.
        eps: Lower clip applied to probabilities before renormalising.
        doc_axis: Axis of ``theta`` that indexes documents.
        dtype: Float type of the per-chunk computation (float32 halves memory).

    Returns:
        ``{k: precision_at_k}`` for every k in ``ks``.

    Raises:
        ValueError: On empty input, length mismatch, bad k, direction or chunk size.
    """
    probs = _as_theta(theta, doc_axis)
    codes = _encode_labels(labels)
    n_docs = probs.shape[0]
    _check_lengths(n_docs, len(codes))
    ks = [int(k) for k in ks]
    if not ks:
        raise ValueError("ks is empty")
    bad = [k for k in ks if not 1 <= k <= n_docs - 1]
    if bad:
        raise ValueError(f"every k must be in [1, N-1] = [1, {n_docs - 1}], got {bad}")
    if direction not in KL_DIRECTIONS:
        raise ValueError(f"direction must be one of {KL_DIRECTIONS}, got {direction!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")

    probs = np.clip(probs, eps, None)
    probs /= probs.sum(axis=1, keepdims=True)
    probs = probs.astype(dtype, copy=False)
    log_probs = np.log(probs)
    neg_entropy = np.einsum("ij,ij->i", probs, log_probs)  # sum p log p

    kth = sorted({k - 1 for k in ks})
    hits = {k: 0 for k in ks}
    for start in range(0, n_docs, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n_docs))
        if direction == "query||candidate":
            # div[r, j] = sum p_r log p_r - sum p_r log p_j
            div = neg_entropy[rows, None] - probs[rows] @ log_probs.T
        else:
            # div[r, j] = sum p_j log p_j - sum p_j log p_r
            div = neg_entropy[None, :] - log_probs[rows] @ probs.T
        div[np.arange(len(rows)), rows] = np.inf  # exclude the query itself
        same = codes[rows, None] == codes[None, :]
        kth_values = np.partition(div, kth, axis=1)
        for k in ks:
            vk = kth_values[:, k - 1 : k]
            within = div <= vk
            n_hits = (within & same).sum(axis=1)
            over = np.flatnonzero(within.sum(axis=1) > k)
            if over.size:  # ties at the k-th value exceed the free slots
                sub, v = div[over], vk[over]
                equal = sub == v
                need = k - (sub < v).sum(axis=1)
                # keep the `need` lowest-index ties, drop the rest
                drop = equal & (np.cumsum(equal, axis=1) > need[:, None])
                n_hits[over] -= (drop & same[over]).sum(axis=1)
            hits[k] += int(n_hits.sum())
    return {k: hits[k] / (k * n_docs) for k in ks}


# ---------------------------------------------------------------------------
# OCTIS integration
# ---------------------------------------------------------------------------


def labels_from_dataset(dataset: Any, partition: str = "train") -> list[Hashable]:
    """Labels of an OCTIS ``Dataset`` aligned with a model-output matrix.

    OCTIS stores documents in the order train, val, test and records the
    boundaries in ``metadata['last-training-doc']`` and
    ``metadata['last-validation-doc']`` (``load_custom_dataset_from_folder``
    recomputes both from ``corpus.tsv``). Models trained with
    ``use_partitions=True`` return ``topic-document-matrix`` for the train
    slice and ``test-topic-document-matrix`` for the test slice; with
    ``use_partitions=False`` the matrix covers all documents (use ``"all"``).

    Args:
        dataset: An ``octis.dataset.dataset.Dataset`` with labels.
        partition: ``"train"``, ``"val"``, ``"test"`` or ``"all"``.

    Returns:
        The labels of that slice, as a list.

    Raises:
        ValueError: If the dataset has no labels, the partition is unknown,
            or the metadata has no partition boundaries.
    """
    if partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
    labels = dataset.get_labels()
    if labels is None or len(labels) == 0:
        raise ValueError("dataset has no labels")
    labels = list(labels)
    corpus = dataset.get_corpus()
    if corpus is not None and len(corpus) != len(labels):
        raise ValueError(
            f"dataset has {len(corpus)} documents but {len(labels)} labels"
        )
    if partition == "all":
        return labels
    metadata = dataset.get_metadata() or {}
    if "last-training-doc" not in metadata:
        raise ValueError(
            "dataset metadata has no 'last-training-doc'; it is not partitioned, use partition='all'"
        )
    last_train = int(metadata["last-training-doc"])
    # Same fallback as Dataset.get_partitioned_corpus(use_validation=False).
    last_val = int(metadata.get("last-validation-doc", 0)) or last_train
    bounds = {"train": (0, last_train), "val": (last_train, last_val), "test": (last_val, len(labels))}
    lo, hi = bounds[partition]
    return labels[lo:hi]


class _LabelMetric(AbstractMetric):
    """Shared plumbing for metrics that compare a model's theta with labels."""

    _name = ""
    _description = ""

    def __init__(self, labels: Sequence[Hashable], matrix: str = "topic-document-matrix") -> None:
        """Store labels and the model-output key to evaluate.

        Args:
            labels: One hashable label per document of the chosen matrix
                (see :func:`labels_from_dataset`).
            matrix: ``"topic-document-matrix"`` or ``"test-topic-document-matrix"``.
        """
        super().__init__()
        if matrix not in MATRIX_KEYS:
            raise ValueError(f"matrix must be one of {MATRIX_KEYS}, got {matrix!r}")
        _encode_labels(labels)  # validate early: non-empty, hashable
        # Private so OCTIS's get_params()/json dump does not carry the labels.
        self._labels = list(labels)
        self.matrix = matrix

    def info(self) -> dict[str, str]:
        """Name, description and citation, like OCTIS metrics' ``info()``."""
        return {
            "name": self._name,
            "description": self._description,
            "citation": "Zhao, Y., & Karypis, G. (2001). Criterion functions for document clustering.",
        }

    def _theta(self, model_output: dict) -> np.ndarray:
        """The chosen K x N matrix from an OCTIS model output, validated."""
        if not isinstance(model_output, dict) or model_output.get(self.matrix) is None:
            raise ValueError(f"model output has no {self.matrix!r}")
        theta = np.asarray(model_output[self.matrix], dtype=np.float64)
        if theta.ndim != 2 or theta.size == 0:
            raise ValueError(f"{self.matrix!r} must be a non-empty 2-D array, got shape {theta.shape}")
        if theta.shape[1] != len(self._labels):
            raise ValueError(
                f"{self.matrix!r} has {theta.shape[1]} documents but {len(self._labels)} labels were given"
            )
        return theta


class Purity(_LabelMetric):
    """OCTIS metric: purity of argmax topic assignments (see :func:`purity`)."""

    _name = "Purity"
    _description = "(1/N) sum over topics of the largest class count in the topic (argmax assignment)"

    def score(self, model_output: dict) -> float:
        """Purity of ``model_output[self.matrix]`` against the labels."""
        return purity(self._theta(model_output), self._labels, doc_axis=1)


class InversePurity(_LabelMetric):
    """OCTIS metric: inverse purity (see :func:`inverse_purity`)."""

    _name = "Inverse purity"
    _description = "(1/N) sum over classes of the largest topic count in the class (argmax assignment)"

    def score(self, model_output: dict) -> float:
        """Inverse purity of ``model_output[self.matrix]`` against the labels."""
        return inverse_purity(self._theta(model_output), self._labels, doc_axis=1)


class HarmonicPurity(_LabelMetric):
    """OCTIS metric: ``2*P*IP/(P+IP)``, the DSL authors' variant (see :func:`harmonic_purity`)."""

    _name = "Harmonic purity"
    _description = "harmonic mean of purity and inverse purity (DSL authors' code)"

    def score(self, model_output: dict) -> float:
        """Harmonic purity of ``model_output[self.matrix]`` against the labels."""
        return harmonic_purity(self._theta(model_output), self._labels, doc_axis=1)


class PurityFMeasure(_LabelMetric):
    """OCTIS metric: clustering F-measure, the TopicGPT variant (see :func:`purity_f_measure`)."""

    _name = "Purity F-measure"
    _description = "sum over classes of (n_j/N) * max over topics of F1(class, topic) (TopicGPT; Zhao & Karypis)"

    def score(self, model_output: dict) -> float:
        """Clustering F-measure of ``model_output[self.matrix]`` against the labels."""
        return purity_f_measure(self._theta(model_output), self._labels, doc_axis=1)


class NMI(_LabelMetric):
    """OCTIS metric: normalised mutual information of argmax assignments and labels (see :func:`nmi`)."""

    _name = "NMI"
    _description = "normalised mutual information between argmax topics and labels (scikit-learn)"

    def score(self, model_output: dict) -> float:
        """NMI of ``model_output[self.matrix]`` against the labels."""
        return nmi(self._theta(model_output), self._labels, doc_axis=1)


class ARI(_LabelMetric):
    """OCTIS metric: adjusted Rand index of argmax assignments and labels (see :func:`ari`)."""

    _name = "ARI"
    _description = "adjusted Rand index between argmax topics and labels (scikit-learn)"

    def score(self, model_output: dict) -> float:
        """ARI of ``model_output[self.matrix]`` against the labels."""
        return ari(self._theta(model_output), self._labels, doc_axis=1)


class RetrievalPrecision(_LabelMetric):
    """OCTIS metric: precision@k of KL-divergence retrieval (see :func:`retrieval_precision_at_k`)."""

    _name = "Retrieval precision"
    _description = "share of the k KL-nearest other documents that share the query's label"

    def __init__(
        self,
        labels: Sequence[Hashable],
        k: int = 10,
        matrix: str = "topic-document-matrix",
        direction: str = "query||candidate",
        chunk_size: int = 512,
    ) -> None:
        """Store labels and retrieval settings.

        Args:
            labels: One hashable label per document of the chosen matrix.
            k: Number of retrieved documents per query.
            matrix: ``"topic-document-matrix"`` or ``"test-topic-document-matrix"``.
            direction: ``"query||candidate"`` or ``"candidate||query"``.
            chunk_size: Query rows processed at once.
        """
        super().__init__(labels, matrix)
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if direction not in KL_DIRECTIONS:
            raise ValueError(f"direction must be one of {KL_DIRECTIONS}, got {direction!r}")
        self.k = int(k)
        self.direction = direction
        self.chunk_size = int(chunk_size)

    def info(self) -> dict[str, str]:
        """Name (with k), description and citation."""
        return {
            "name": f"{self._name}@{self.k}",
            "description": f"{self._description}; ranking by KL({self.direction})",
            "citation": "DSL paper, section 4.5 (retrieval evaluation).",
        }

    def score(self, model_output: dict) -> float:
        """Precision@k of ``model_output[self.matrix]`` against the labels."""
        result = retrieval_precision_at_k(
            self._theta(model_output),
            self._labels,
            ks=(self.k,),
            direction=self.direction,
            chunk_size=self.chunk_size,
            doc_axis=1,
        )
        return result[self.k]
