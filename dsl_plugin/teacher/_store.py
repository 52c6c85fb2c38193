"""Cache access for the teacher: which entry a (config, documents, vocabulary) triple maps to, and
reading an entry back in the caller's document order."""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cache import CacheEntry, default_cache_dir, make_key
from ._config import TeacherConfig

logger = logging.getLogger(__name__)


def unique_documents(documents: Sequence[str], vocabulary: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Validate a teacher call and deduplicate its documents.

    Returns:
        (unique, inverse): the distinct documents in order of first occurrence (the order a cache entry
        is keyed and sharded by) and, for each input document, its index in ``unique``.

    Raises:
        ValueError: empty corpus, all-empty documents, empty vocabulary.
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
    return list(first), inverse


def open_entry(config: TeacherConfig, documents: Sequence[str], vocabulary: Sequence[str],
               cache_dir: str | None = None, shard_size: int = 256) -> CacheEntry:
    """The cache entry of ``config`` over ``documents`` (unique, in order) and ``vocabulary``."""
    ident = config.identity(vocabulary)
    key = make_key(ident, documents)
    root = Path(cache_dir) if cache_dir else default_cache_dir() / "teacher"
    small_ident = {k: v for k, v in ident.items() if k != "vocabulary"} | {"vocabulary_size": len(vocabulary)}
    return CacheEntry(root, key, len(documents), shard_size, identity=small_ident, dtype=config.cache_dtype)


def is_identity(inverse: np.ndarray) -> bool:
    return bool(np.array_equal(inverse, np.arange(len(inverse))))


def gather(entry: CacheEntry, which: str, inverse: np.ndarray) -> np.ndarray:
    """``entry.read(which)[inverse]`` without materialising the concatenation (peak: result + one shard).

    Raises:
        RuntimeError: if a shard is missing.
    """
    out = None
    identity = is_identity(inverse)
    order = np.argsort(inverse, kind="stable")
    sorted_inv = inverse[order]
    for i in range(entry.n_shards):
        start, stop = entry.shard_range(i)
        part = entry.load_shard(i, which)
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


class ShardFiles:
    """Positioned reads of rows from the shard files of a complete cache entry.

    A streamed fit reads a few random rows per batch, so this keeps no memory map: a map of every shard
    would hold one file descriptor per file and count every page touched in the process's resident set,
    which then grows to the size of the entry over an epoch. Each run of consecutive rows is one
    ``os.preadv`` straight into the caller's buffer; the bytes come from the page cache like a map's would.
    The ``.npy`` headers are parsed once per file. Every shard file stays open if the open-file limit allows
    (see :func:`_max_open_files`); otherwise at most ``max_open``, the oldest closed first.
    """

    def __init__(self, entry: CacheEntry, max_open: int | None = None):
        self.entry = entry
        self.max_open = max_open or _max_open_files(2 * entry.n_shards)
        self._layout: dict[tuple[int, str], tuple[int, int, np.dtype, int]] = {}
        self._fds: OrderedDict[tuple[int, str], int] = OrderedDict()
        self._committed: set[int] = set()  # shards whose commit record was seen (checked once, not per reopen)

    def layout(self, i: int, which: str) -> tuple[int, int, np.dtype, int]:
        """(offset of the data, bytes per row, dtype, row width) of one shard file (checked against shard 0's)."""
        key = (i, which)
        found = self._layout.get(key)
        if found is None:
            path = self._path(i, which)
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(f)
                offset = f.tell()
            start, stop = self.entry.shard_range(i)
            if fortran or len(shape) != 2 or shape[0] != stop - start or not dtype.isnative \
                    or dtype not in (np.float32, np.float16):
                raise RuntimeError(f"teacher cache {path} is not a C-ordered float32/float16 array of {stop - start} "
                                   f"rows (shape {shape}, dtype {dtype}, fortran order {fortran})")
            found = (offset, shape[1] * dtype.itemsize, dtype, int(shape[1]))
            if i:
                first = self.layout(0, which)
                if found[2:] != first[2:]:
                    raise RuntimeError(f"teacher cache {self.entry.path}: shard {i} has {found[3]} {found[2]} "
                                       f"columns, shard 0 has {first[3]} {first[2]}")
            self._layout[key] = found
        return found

    def _path(self, i: int, which: str) -> Path:
        if which not in ("logits", "hidden"):
            raise ValueError(f"which must be 'logits' or 'hidden', got {which!r}")
        if i not in self._committed:
            if not self.entry.has_shard(i):
                raise RuntimeError(f"teacher cache {self.entry.path} is incomplete: shard {i} is missing")
            self._committed.add(i)
        return self.entry.path / f"shard_{i:05d}.{which}.npy"

    def _fd(self, i: int, which: str) -> int:
        """The open descriptor of a shard file; beyond ``max_open`` the oldest opened is closed (random batches
        have no locality that a smarter policy could use)."""
        key = (i, which)
        fd = self._fds.get(key)
        if fd is None:
            fd = os.open(self._path(i, which), os.O_RDONLY)
            self._fds[key] = fd
            while len(self._fds) > self.max_open:
                os.close(self._fds.popitem(last=False)[1])
        return fd

    def read(self, which: str, rows: np.ndarray) -> np.ndarray:
        """Rows ``rows`` (indices into the entry's unique documents) of one array, in the given order, in the
        stored dtype."""
        rows = np.asarray(rows, dtype=np.int64)
        _, row_bytes, dtype, width = self.layout(0, which)
        out = np.empty((len(rows), width), dtype)
        if not len(rows):
            return out
        shard, local = np.divmod(rows, self.entry.shard_size)
        cut = np.flatnonzero((np.diff(shard) != 0) | (np.diff(local) != 1)) + 1  # runs of consecutive rows
        starts = np.concatenate([[0], cut]).tolist()
        stops = starts[1:] + [len(rows)]
        buf = memoryview(out).cast("B")
        layout, fds = self._layout, self._fds
        for a, b, i, r in zip(starts, stops, shard[starts].tolist(), local[starts].tolist()):
            key = (i, which)
            offset = (layout.get(key) or self.layout(i, which))[0]
            fd = fds.get(key)
            if fd is None:
                fd = self._fd(i, which)
            pos, done, want = offset + r * row_bytes, a * row_bytes, b * row_bytes
            while done < want:
                got = _read_into(fd, buf[done:want], pos)
                if got <= 0:
                    raise RuntimeError(f"teacher cache {self.entry.path}: shard {i} ({which}) is truncated")
                done, pos = done + got, pos + got
        return out

    def close(self) -> None:
        while self._fds:
            os.close(self._fds.popitem()[1])

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def _max_open_files(wanted: int) -> int:
    """How many descriptors a reader keeps open: ``wanted`` (every shard file of the entry) when that is at most
    half the process's soft limit, raising the soft limit towards the hard limit if needed (a streamed epoch reads
    every shard in random order, so a smaller pool reopens a file on most reads); else half the soft limit."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return max(16, wanted)
        if soft // 2 < wanted and (hard == resource.RLIM_INFINITY or hard > soft):
            raised = 2 * wanted + 64 if hard == resource.RLIM_INFINITY else min(hard, 2 * wanted + 64)
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            logger.info("teacher cache: open-file soft limit raised from %d to %d to read %d shard files", soft,
                        raised, wanted)
            soft = raised
    except (ImportError, OSError, ValueError):
        soft = 1024
    return max(16, min(wanted, soft // 2))


def _read_into(fd: int, buf: memoryview, pos: int) -> int:
    """Read up to ``len(buf)`` bytes at ``pos`` into ``buf`` (``os.preadv`` where the OS has it)."""
    os.lseek(fd, pos, os.SEEK_SET)
    data = os.read(fd, len(buf))
    buf[:len(data)] = data
    return len(data)


if hasattr(os, "preadv"):
    def _read_into(fd: int, buf: memoryview, pos: int) -> int:  # noqa: F811 (one syscall, no copy)
        return os.preadv(fd, [buf], pos)
