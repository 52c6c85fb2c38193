"""The student's training targets, from the teacher's word logits or the bag of words.

Pure functions over arrays (no model state), so that the in-memory fit, a streamed fit and every backbone
build the same target from the same inputs.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..teacher import softmax_with_temperature
from ._batches import CHUNK_ROWS, column_mean, row_chunks

#: what may be subtracted from each word's logit before the softmax (see :func:`soft_targets`)
CALIBRATIONS = (None, "corpus", "contextual")


def corpus_logit_mean(logits: np.ndarray | Iterable[np.ndarray]) -> np.ndarray:
    """Each word's mean logit over the documents (1 x V): the offset of ``calibration="corpus"``.

    ``logits``: an N x V array, or an iterable of row blocks (one pass over a streamed corpus; the same float32
    result as the whole array).
    """
    if isinstance(logits, np.ndarray):
        return np.asarray(logits, dtype=np.float32).mean(axis=0, keepdims=True)
    return column_mean(logits)[None]


def soft_targets(logits: np.ndarray, temperature: float, offset: np.ndarray | None = None,
                 bow=None, bow_weight: float = 0.0) -> np.ndarray:
    """softmax((logits - offset) / temperature), blended with the normalised bag of words.

    Args:
        logits: N x V teacher word logits (or log-probabilities).
        temperature: tau > 0.
        offset: subtracted from every row first (the calibration: :func:`corpus_logit_mean`, or the logits of a
            content-free document); None = none (the paper).
        bow: N x V counts (dense or scipy sparse), needed when ``bow_weight > 0``.
        bow_weight: w in ``(1 - w) * soft + w * bow / |bow|``; documents without a vocabulary word keep the soft
            label.
    """
    if offset is not None:
        logits = logits - offset
    soft = softmax_with_temperature(logits, temperature)
    if not bow_weight:
        return soft
    if bow is None:
        raise ValueError("bow_weight > 0 needs the bag of words (bow)")
    bow = _dense(bow)
    sums = bow.sum(1, keepdims=True)
    w = np.where(sums > 0, np.float32(bow_weight), np.float32(0))
    return ((1 - w) * soft + w * bow / np.maximum(sums, 1)).astype(np.float32)


def bow_targets(bow, normalise: bool) -> np.ndarray:
    """The bag-of-words target: raw counts (ProdLDA's NLL) or, with ``normalise``, rows summing to 1 (empty
    documents get the uniform distribution)."""
    bow = _dense(bow)
    if not normalise:
        return bow
    sums = bow.sum(1, keepdims=True)
    uniform = np.full_like(bow, 1.0 / bow.shape[1])
    return np.where(sums > 0, bow / np.maximum(sums, 1), uniform).astype(np.float32)


def bow_features(bow) -> np.ndarray:
    """Bag-of-words rows as student input features: each row scaled to unit length (L2), so that long and short
    documents weigh alike; empty documents stay zero."""
    return unit_rows(_dense(bow))


#: where ``target_neighbours`` finds each document's neighbours (``DSL(neighbour_space=...)``): the sentence encoder's
#: embeddings, the documents' own targets (:func:`target_geometry`), or both (each row at unit length, side by side)
NEIGHBOUR_SPACES = ("encoder", "targets", "both")


def target_geometry_rows(rows_of, n: int, chunk: int = CHUNK_ROWS):
    """``rows -> those documents' own targets in Hellinger geometry``, as rows for :func:`neighbour_index` (cosine):
    each target's element-wise square root, centred by the mean over the ``n`` documents (float32). ``rows_of``: row
    indices -> the targets of those rows. The mean is computed here, in one pass of ``chunk`` rows at a time
    (:func:`row_chunks`), so that no more than one block of rows is held at once."""
    def roots(rows):
        return np.sqrt(np.asarray(rows_of(rows), dtype=np.float32))
    mean = column_mean(roots(rows) for rows in row_chunks(n, chunk))
    return lambda rows: roots(rows) - mean


def target_geometry(rows_of, n: int, chunk: int = CHUNK_ROWS) -> np.ndarray:
    """Every document's row of :func:`target_geometry_rows` in one n x |V| float32 array."""
    return target_geometry_rows(rows_of, n, chunk)(np.arange(n))


def neighbour_vectors(space: str, embeddings: np.ndarray | None, own_rows, n: int):
    """The rows whose cosine finds pooled targets' neighbours in ``space`` (one of :data:`NEIGHBOUR_SPACES`), for
    :func:`neighbour_index`: the sentence ``embeddings`` (an n x D array) for ``"encoder"``, else a function of row
    indices -> rows (one search block's at a time): the own targets in Hellinger geometry (``own_rows``: row indices
    -> the documents' own targets; :func:`target_geometry_rows`), or for ``"both"`` those and the embeddings side by
    side, each at unit length (so that their cosine is the mean of the two cosines)."""
    if space == "encoder":
        return embeddings
    targets = target_geometry_rows(own_rows, n)
    if space == "targets":
        return targets
    return lambda rows: np.concatenate([unit_rows(embeddings[rows]), unit_rows(targets(rows))], axis=1)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row of ``x`` at unit length (zero rows stay zero), float32."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


#: :func:`neighbour_index` searches a large corpus's neighbours within random blocks of at most this many documents
#: (exact within a block; time and memory linear in the corpus size)
NEIGHBOUR_BLOCK = 50_000
#: a search in the targets' geometry (``"targets"``, ``"both"``) holds about this many block x |V| float32 arrays at
#: once: the block's rows, the search's normalised copy, the square roots they are built from (and for "both" the
#: rows side by side)
TARGET_SEARCH_COPIES = {"targets": 3, "both": 4}
#: the memory a search in the targets' geometry may hold (bytes): its blocks are smaller than ``NEIGHBOUR_BLOCK``
#: where a block's rows would not fit (:func:`neighbour_block`), whatever the machine, so that the neighbours do not
#: depend on it
TARGET_SEARCH_BYTES = 2 * 2**30


def neighbour_block(space: str, n_words: int) -> int:
    """The most documents :func:`neighbour_index` searches at once in ``space`` over a vocabulary of ``n_words``:
    ``NEIGHBOUR_BLOCK``, and in the targets' geometry no more than fit ``TARGET_SEARCH_BYTES`` (about
    ``TARGET_SEARCH_COPIES[space]`` block x |V| float32 arrays: 50,000 documents up to |V| = 2,684 for "both"); at
    least 2."""
    if space == "encoder":
        return NEIGHBOUR_BLOCK
    return max(2, min(NEIGHBOUR_BLOCK, TARGET_SEARCH_BYTES // (4 * TARGET_SEARCH_COPIES[space] * max(n_words, 1))))


def neighbour_index(vectors, k: int, seed: int | None = 0, block: int = NEIGHBOUR_BLOCK, device=None,
                    n: int | None = None) -> np.ndarray:
    """Each row of ``vectors`` and its ``k`` nearest other rows by cosine similarity: an N x (1 + m) int64 array, the
    row itself first, m = ``k`` capped at the rows of the smallest block minus one.

    ``vectors``: an N x D array (e.g. sentence embeddings), or a function of row indices -> those rows (N x D float32;
    N given as ``n``), called once per block, so that only one block's rows are held at a time (e.g.
    :func:`target_geometry_rows`). A corpus of more than ``block`` rows is split into random blocks (seeded by
    ``seed``; their sizes differ by at most one) of at most ``block`` rows, and neighbours are searched within each:
    with scikit-learn on the CPU (``device`` None or a CPU), or with torch on a GPU ``device``
    (:func:`_torch_neighbours`; the same neighbours up to ties and float rounding)."""
    import torch

    if callable(vectors):
        if n is None:
            raise ValueError("neighbour_index: give n (the number of rows) with a function of rows")
        rows_of = vectors
    else:
        array = np.asarray(vectors, dtype=np.float32)
        if n is not None and n != len(array):
            raise ValueError(f"neighbour_index: n={n} but vectors has {len(array)} rows")
        n, rows_of = len(array), array.__getitem__
    on_gpu = device is not None and torch.device(device).type != "cpu"
    order = np.random.default_rng(seed).permutation(n) if n > block else np.arange(n)
    parts = np.array_split(order, max(1, -(-n // block)))
    m = min(k, min(len(p) for p in parts) - 1) if n else 0
    out = np.empty((n, 1 + max(m, 0)), dtype=np.int64)
    out[:, 0] = np.arange(n)
    if m <= 0:
        return out
    for part in parts:
        x = np.asarray(rows_of(part), dtype=np.float32)
        out[part, 1:] = part[_torch_neighbours(x, m, device) if on_gpu else _sklearn_neighbours(x, m)]
    return out


def _sklearn_neighbours(x: np.ndarray, m: int) -> np.ndarray:
    """Each row's ``m`` nearest other rows of ``x`` by cosine distance (exact, brute force; n x m positions)."""
    from sklearn.neighbors import NearestNeighbors

    # without a query, kneighbors gives each row its m nearest *other* rows
    return NearestNeighbors(n_neighbors=m, metric="cosine", algorithm="brute").fit(x).kneighbors(return_distance=False)


def _torch_neighbours(x: np.ndarray, m: int, device, rows: int = 4096) -> np.ndarray:
    """:func:`_sklearn_neighbours` with torch on ``device`` (meant for a GPU): unit rows (a zero row stays zero, as in
    scikit-learn's cosine), similarities ``rows`` query rows at a time, each row's own similarity masked, top ``m``."""
    import torch

    with torch.no_grad():
        t = torch.nn.functional.normalize(torch.from_numpy(x).to(device), dim=1)
        out = np.empty((len(x), m), dtype=np.int64)
        for a in range(0, len(x), rows):
            sims = t[a:a + rows] @ t.T
            own = torch.arange(a, min(a + rows, len(x)), device=t.device)
            sims[own - a, own] = -torch.inf
            out[a:a + rows] = sims.topk(m, dim=1).indices.cpu().numpy()
    return out


def pooled_rows(rows_of, index: np.ndarray, neighbour_weight: float | None = None):
    """``rows -> the mean of rows_of(r)`` over each row ``r`` and its neighbours (``index``: from
    :func:`neighbour_index`), as ``rows_of`` takes and returns them (an int64 index array -> float32 rows).

    ``neighbour_weight`` w in [0, 1]: instead, ``(1 - w) * rows_of(r) + w * (the mean of the neighbours' rows)``
    (None: every row of the group weighs the same, w = m / (m + 1) for m neighbours). A row without neighbours
    (``index`` of one column) is its own target whatever w."""
    if neighbour_weight is not None and not 0 <= neighbour_weight <= 1:
        raise ValueError(f"neighbour_weight must be in [0, 1], got {neighbour_weight!r}")

    def read(rows):
        group = index[np.asarray(rows, dtype=np.int64)]
        own = rows_of(group[:, 0]).astype(np.float32)
        if group.shape[1] == 1:
            return own
        total = own if neighbour_weight is None else np.zeros_like(own)
        for j in range(1, group.shape[1]):  # summed one neighbour at a time: memory of two blocks (three with w)
            total += rows_of(group[:, j])
        if neighbour_weight is None:
            return total / np.float32(group.shape[1])
        return (np.float32(1 - neighbour_weight) * own
                + np.float32(neighbour_weight) * (total / np.float32(group.shape[1] - 1)))
    return read


def _dense(bow) -> np.ndarray:
    return np.asarray(bow.toarray() if hasattr(bow, "toarray") else bow, dtype=np.float32)
