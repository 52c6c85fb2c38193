"""Batch sources: where the training loop and inference read the student's inputs and targets, by row.

The loop (:func:`~dsl_plugin.student.train_network`) draws a shuffled permutation of the rows each epoch and asks
its source for the rows of each batch; inference asks for consecutive blocks. Two sources share that interface:

* :class:`TensorSource`: inputs and targets held in memory as tensors (sliced by the batch's indices);
* :class:`RowSource`: rows computed per batch by two functions of the row indices, e.g. teacher outputs read from
  the on-disk cache and turned into soft labels batch by batch, so memory does not grow with the corpus.
  :meth:`RowSource.materialize` computes every row once, with the same functions, into a :class:`TensorSource`.

Both give the same float32 rows for the same indices (the per-batch functions are row-wise), so a fit is the
same whichever source it reads. :func:`column_mean` / :func:`column_std` compute corpus statistics (the
calibration offset, the input standardisation) in one pass over row chunks, with numpy's own float32 summation
order: equal to ``x.mean(0)`` / ``x.std(0)`` of the concatenated rows.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

import numpy as np
import torch

#: rows per block when a source is read in order (statistics, materialisation, inference)
CHUNK_ROWS = 4096


class BatchSource:
    """Rows of the student's inputs and targets by document index (``idx``: an index tensor, array or slice)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def inputs(self, idx) -> torch.Tensor:
        raise NotImplementedError

    def targets(self, idx) -> torch.Tensor:
        raise NotImplementedError

    def batch(self, idx) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) of rows ``idx``."""
        return self.inputs(idx), self.targets(idx)

    def without_targets(self) -> "BatchSource":
        """The same inputs without the targets (inference; what the targets held can be freed)."""
        raise NotImplementedError


class TensorSource(BatchSource):
    """Inputs (and targets) in memory as tensors, indexed directly."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor | None = None):
        if targets is not None and len(targets) != len(inputs):
            raise ValueError(f"inputs have {len(inputs)} rows, targets {len(targets)}")
        self._inputs, self._targets = inputs, targets

    def __len__(self) -> int:
        return int(self._inputs.shape[0])

    def inputs(self, idx) -> torch.Tensor:
        return self._inputs[idx]

    def targets(self, idx) -> torch.Tensor:
        if self._targets is None:
            raise ValueError("this source has no targets (inference only)")
        return self._targets[idx]

    def without_targets(self) -> "TensorSource":
        return TensorSource(self._inputs)


class RowSource(BatchSource):
    """Rows computed per batch: ``read_inputs(idx)`` / ``read_targets(idx)`` take an int64 index array and return
    float32 arrays of those rows, in that order; they are moved to ``device`` as tensors."""

    def __init__(self, n: int, read_inputs: Callable[[np.ndarray], np.ndarray],
                 read_targets: Callable[[np.ndarray], np.ndarray] | None = None, device: str | torch.device = "cpu"):
        self.n, self.read_inputs, self.read_targets, self.device = int(n), read_inputs, read_targets, device

    def __len__(self) -> int:
        return self.n

    def _rows(self, idx) -> np.ndarray:
        if isinstance(idx, slice):
            return np.arange(*idx.indices(self.n), dtype=np.int64)
        if isinstance(idx, torch.Tensor):
            idx = idx.cpu().numpy()
        return np.asarray(idx, dtype=np.int64)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(self.device)

    def inputs(self, idx) -> torch.Tensor:
        return self._tensor(self.read_inputs(self._rows(idx)))

    def targets(self, idx) -> torch.Tensor:
        if self.read_targets is None:
            raise ValueError("this source has no targets (inference only)")
        return self._tensor(self.read_targets(self._rows(idx)))

    def without_targets(self) -> "RowSource":
        return RowSource(self.n, self.read_inputs, None, self.device)

    def materialize(self) -> TensorSource:
        """Every row computed once (in blocks of :data:`CHUNK_ROWS`, with the same functions) and kept in memory."""
        def fill(read):
            out = None
            for rows in row_chunks(self.n):
                part = read(rows)
                if out is None:
                    out = np.empty((self.n, part.shape[1]), np.float32)
                out[rows[0]:rows[-1] + 1] = part
            return torch.from_numpy(out).to(self.device)

        return TensorSource(fill(self.read_inputs), None if self.read_targets is None else fill(self.read_targets))


def as_source(inputs, targets=None) -> BatchSource:
    """``inputs`` if it is a :class:`BatchSource`, else a :class:`TensorSource` of the tensors (or arrays)."""
    if isinstance(inputs, BatchSource):
        if targets is not None:
            raise ValueError("pass the targets inside the BatchSource, not next to it")
        return inputs
    as_tensor = (lambda a: a if a is None or isinstance(a, torch.Tensor) else torch.from_numpy(np.asarray(a)))
    return TensorSource(as_tensor(inputs), as_tensor(targets))


def row_chunks(n: int, size: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
    """Consecutive row-index blocks ``[0, size), [size, 2 size), ...`` covering ``n`` rows."""
    for start in range(0, n, size):
        yield np.arange(start, min(start + size, n), dtype=np.int64)


def _column_sum(chunks: Iterable[np.ndarray]) -> tuple[np.ndarray, int]:
    """Column sums of the stacked chunks in float32, row after row (numpy's order for ``x.sum(0)`` of a C-ordered
    float32 array), and the number of rows."""
    total, n = None, 0
    for chunk in chunks:
        chunk = np.asarray(chunk, dtype=np.float32)
        n += len(chunk)
        total = np.add.reduce(chunk if total is None else np.concatenate([total[None], chunk]), axis=0)
    if total is None or n == 0:
        raise ValueError("no rows to average")
    return total, n


def column_mean(chunks: Iterable[np.ndarray]) -> np.ndarray:
    """Each column's mean over every row of ``chunks`` (float32, shape (width,)); equals ``np.concatenate(chunks)
    .mean(0)`` without holding the rows."""
    total, n = _column_sum(chunks)
    return np.true_divide(total, n).astype(np.float32, copy=False)


def column_std(chunks: Iterable[np.ndarray], mean: np.ndarray) -> np.ndarray:
    """Each column's (population) standard deviation around ``mean`` (from :func:`column_mean` over the same
    rows); equals ``x.std(0)`` (numpy's two-pass formula)."""
    mean = np.asarray(mean, dtype=np.float32)[None]

    def squares():
        for chunk in chunks:
            d = np.asarray(chunk, dtype=np.float32) - mean
            yield np.multiply(d, d, out=d)

    total, n = _column_sum(squares())
    return np.sqrt(np.true_divide(total, n)).astype(np.float32, copy=False)
