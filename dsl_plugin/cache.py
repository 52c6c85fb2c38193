"""Content-keyed, sharded, atomic on-disk store of teacher outputs.

Layout of one entry (``<root>/<key>/``)::

    manifest.json               what the key was made of, number of documents, shard size
    shard_00000.logits.npy      float32 (n_in_shard, |V|)  raw restricted next-token logits
    shard_00000.hidden.npy      float32 (n_in_shard, H)    last-token final-layer hidden states
                                (float16 with ``TeacherConfig.cache_dtype="float16"``, part of the key)
    shard_00000.json            commit record: sha256 of both files (written last)

Every file is written to a temporary name and moved into place with ``os.replace``
(:mod:`dsl_plugin.fileio`), and a shard counts as done only once its commit record exists, so an
interrupted teacher pass resumes at the first missing shard. A shard whose bytes no longer match its
record, whose record names other rows than its position (``start``/``stop``) or whose arrays have the
wrong number of rows is reported and recomputed.

The manifest is a convenience, not a single point of failure: a missing, unreadable or inconsistent
``manifest.json`` (wrong ``shard_size`` or ``n_documents``) is rebuilt from the shard records, whose
``start``/``stop`` give the layout, and the intact shards are kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .fileio import atomic_save_npy, atomic_write_json, sha256_file

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """``$DSL_PLUGIN_CACHE`` or ``~/.cache/dsl_plugin``."""
    return Path(os.environ.get("DSL_PLUGIN_CACHE", Path.home() / ".cache" / "dsl_plugin"))


def hash_documents(documents: Iterable[str]) -> str:
    """sha256 over the documents, length-prefixed so that boundaries are part of the hash."""
    h = hashlib.sha256()
    for d in documents:
        b = d.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def make_key(identity: dict, documents: Sequence[str]) -> str:
    """Cache key from the teacher identity (model, prompt, vocabulary, max tokens...) and documents."""
    payload = json.dumps({"format": CACHE_FORMAT, **identity}, sort_keys=True, ensure_ascii=False)
    h = hashlib.sha256(payload.encode("utf-8"))
    h.update(hash_documents(documents).encode())
    return h.hexdigest()[:32]


class CacheEntry:
    """One cached teacher pass over a fixed, ordered list of documents."""

    def __init__(self, root: str | os.PathLike, key: str, n_documents: int, shard_size: int = 512,
                 identity: dict | None = None, dtype: str = "float32"):
        if shard_size < 1:
            raise ValueError("shard_size must be >= 1")
        if dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
        self.dtype = np.dtype(dtype)  # how write_shard stores the arrays (the key says which, via the identity)
        self.path = Path(root) / key
        self.key = key
        self.n_documents = n_documents
        self.path.mkdir(parents=True, exist_ok=True)
        manifest = self.path / "manifest.json"
        meta, problem = self._read_manifest(manifest)
        size = meta.get("shard_size") if meta is not None else None
        recorded = self._shard_size_from_records(([size] if problem is None else []) + [shard_size])
        if problem is None and (recorded is None or recorded == size):
            self.shard_size = size  # an existing entry keeps its layout
            return
        if problem is None:
            problem = f"its shard_size {size} contradicts the shard records ({recorded})"
        self.shard_size = recorded or shard_size
        if problem != "missing" or recorded is not None:
            logger.warning("teacher cache: %s %s; rebuilt from the shard records (shard_size %d), intact shards "
                           "are kept", manifest, problem, self.shard_size)
        atomic_write_json(manifest, {"key": key, "n_documents": n_documents, "shard_size": self.shard_size,
                                     "format": CACHE_FORMAT,
                                     "identity": identity or (meta or {}).get("identity") or {}})

    def _read_manifest(self, manifest: Path) -> tuple[dict | None, str | None]:
        """(manifest, None) if usable, else (whatever could be read, what is wrong with it)."""
        if not manifest.exists():
            return None, "missing"
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            return None, f"is unreadable ({e})"
        if not isinstance(meta, dict):
            return None, "is not a JSON object"
        size = meta.get("shard_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            return meta, f"has an invalid shard_size {size!r}"
        if meta.get("n_documents") != self.n_documents:
            return meta, f"says {meta.get('n_documents')!r} documents, the key has {self.n_documents}"
        return meta, None

    def _records(self) -> dict[int, tuple[int, int]]:
        """Shard index -> (start, stop) of every readable commit record."""
        out = {}
        for rp in self.path.glob("shard_*.json"):
            try:
                i = int(rp.name[len("shard_"):-len(".json")])
                rec = json.loads(rp.read_text(encoding="utf-8"))
                out[i] = (int(rec["start"]), int(rec["stop"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # an unreadable record is invalidated by has_shard(verify=True)
        return out

    def _shard_size_from_records(self, preferred: list[int]) -> int | None:
        """The shard size most commit records agree with, ties going to the first of ``preferred``
        (None: no usable record)."""
        records = self._records()
        n = self.n_documents
        candidates = {stop - start for start, stop in records.values() if stop > start} | set(preferred)
        candidates |= {start // i for i, (start, _) in records.items() if i > 0 and start > 0 and start % i == 0}

        def score(s: int) -> tuple[int, int]:
            agreeing = sum((start, stop) == (i * s, min((i + 1) * s, n)) for i, (start, stop) in records.items())
            return agreeing, -(preferred.index(s) if s in preferred else len(preferred))

        best = max(candidates, key=score)
        return best if score(best)[0] > 0 else None

    @property
    def n_shards(self) -> int:
        return (self.n_documents + self.shard_size - 1) // self.shard_size

    def shard_range(self, i: int) -> tuple[int, int]:
        """Document index range [start, stop) of shard ``i``."""
        return i * self.shard_size, min((i + 1) * self.shard_size, self.n_documents)

    def _files(self, i: int) -> tuple[Path, Path, Path]:
        stem = self.path / f"shard_{i:05d}"
        return stem.with_suffix(".logits.npy"), stem.with_suffix(".hidden.npy"), stem.with_suffix(".json")

    def has_shard(self, i: int, verify: bool = False) -> bool:
        """Whether shard ``i`` is committed (and, with ``verify``, intact)."""
        logits, hidden, record = self._files(i)
        if not record.exists():
            return False
        if not verify:
            return True
        problem = self._shard_problem(i)
        if problem:
            logger.warning("teacher cache: shard %d of %s is corrupt (%s); it will be recomputed", i, self.path, problem)
            record.unlink(missing_ok=True)
        return not problem

    def _shard_problem(self, i: int) -> str | None:
        """Why shard ``i`` cannot be used (None: intact)."""
        logits, hidden, record = self._files(i)
        start, stop = self.shard_range(i)
        try:
            rec = json.loads(record.read_text(encoding="utf-8"))
            if (rec.get("start"), rec.get("stop")) != (start, stop):
                return f"its record is for rows {rec.get('start')}-{rec.get('stop')}, shard {i} holds rows {start}-{stop}"
            for path, which in ((logits, "logits"), (hidden, "hidden")):
                if sha256_file(path) != rec[f"{which}_sha256"]:
                    return f"{path.name} does not match its checksum"
                rows = np.load(path, mmap_mode="r").shape[0]
                if rows != stop - start:
                    return f"{path.name} has {rows} rows, expected {stop - start}"
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            return f"{type(e).__name__}: {e}"
        return None

    def missing_shards(self, verify: bool = True) -> list[int]:
        """Shards still to compute (corrupt ones are invalidated and included)."""
        return [i for i in range(self.n_shards) if not self.has_shard(i, verify=verify)]

    def write_shard(self, i: int, logits: np.ndarray, hidden: np.ndarray) -> None:
        """Atomically store shard ``i`` (arrays in document order of the shard)."""
        start, stop = self.shard_range(i)
        if len(logits) != stop - start or len(hidden) != stop - start:
            raise ValueError(f"shard {i} needs {stop - start} rows, got {len(logits)} / {len(hidden)}")
        lp, hp, rp = self._files(i)
        atomic_save_npy(lp, self._stored(logits, "logits"))
        atomic_save_npy(hp, self._stored(hidden, "hidden"))
        atomic_write_json(rp, {"start": start, "stop": stop, "logits_sha256": sha256_file(lp),
                                "hidden_sha256": sha256_file(hp)})

    def _stored(self, array: np.ndarray, which: str) -> np.ndarray:
        with np.errstate(over="ignore"):
            out = np.asarray(array).astype(self.dtype, copy=False)
        if out.dtype != np.float32 and not np.isfinite(out).all() and np.isfinite(array).all():
            raise ValueError(f"teacher {which} exceed the float16 range (max |x| {float(np.abs(array).max()):.4g} > "
                             "65504): store them as float32 (cache_dtype='float32')")
        return out

    def load_shard(self, i: int, which: str, mmap: bool = True) -> np.ndarray:
        """One array (``"logits"`` or ``"hidden"``) of shard ``i``.

        Raises:
            RuntimeError: if the shard is missing.
        """
        if which not in ("logits", "hidden"):
            raise ValueError(f"which must be 'logits' or 'hidden', got {which!r}")
        lp, hp, rp = self._files(i)
        if not rp.exists():
            raise RuntimeError(f"teacher cache {self.path} is incomplete: shard {i} is missing")
        return np.load(lp if which == "logits" else hp, mmap_mode="r" if mmap else None)

    def read(self, which: str, mmap: bool = True) -> np.ndarray:
        """Concatenate one array ('logits' or 'hidden') over all shards.

        Raises:
            RuntimeError: if a shard is missing.
        """
        parts = [self.load_shard(i, which, mmap) for i in range(self.n_shards)]
        return np.concatenate(parts, axis=0) if len(parts) > 1 else np.asarray(parts[0])
