"""Content-keyed, sharded, atomic on-disk store of teacher outputs.

Layout of one entry (``<root>/<key>/``)::

    manifest.json               what the key was made of, number of documents, shard size
    shard_00000.logits.npy      float32 (n_in_shard, |V|)  raw restricted next-token logits
    shard_00000.hidden.npy      float32 (n_in_shard, H)    last-token final-layer hidden states
    shard_00000.json            commit record: sha256 of both files (written last)

Every file is written to a temporary name and moved into place with ``os.replace``, and a shard
counts as done only once its commit record exists, so an interrupted teacher pass resumes at the
first missing shard. A shard whose bytes no longer match its record is reported and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

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


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _atomic_write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False))
    os.replace(tmp, path)


class CacheEntry:
    """One cached teacher pass over a fixed, ordered list of documents."""

    def __init__(self, root: str | os.PathLike, key: str, n_documents: int, shard_size: int = 512,
                 identity: dict | None = None):
        if shard_size < 1:
            raise ValueError("shard_size must be >= 1")
        self.path = Path(root) / key
        self.key = key
        self.n_documents = n_documents
        manifest = self.path / "manifest.json"
        if manifest.exists():
            meta = json.loads(manifest.read_text())
            shard_size = int(meta["shard_size"])  # an existing entry keeps its layout
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            _atomic_write_json(manifest, {"key": key, "n_documents": n_documents, "shard_size": shard_size,
                                          "format": CACHE_FORMAT, "identity": identity or {}})
        self.shard_size = shard_size

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
        try:
            rec = json.loads(record.read_text())
            ok = (_sha256_file(logits) == rec["logits_sha256"] and _sha256_file(hidden) == rec["hidden_sha256"])
        except (OSError, ValueError, KeyError):
            ok = False
        if not ok:
            logger.warning("teacher cache: shard %d of %s is corrupt; it will be recomputed", i, self.path)
            record.unlink(missing_ok=True)
        return ok

    def missing_shards(self, verify: bool = True) -> list[int]:
        """Shards still to compute (corrupt ones are invalidated and included)."""
        return [i for i in range(self.n_shards) if not self.has_shard(i, verify=verify)]

    def write_shard(self, i: int, logits: np.ndarray, hidden: np.ndarray) -> None:
        """Atomically store shard ``i`` (arrays in document order of the shard)."""
        start, stop = self.shard_range(i)
        if len(logits) != stop - start or len(hidden) != stop - start:
            raise ValueError(f"shard {i} needs {stop - start} rows, got {len(logits)} / {len(hidden)}")
        lp, hp, rp = self._files(i)
        atomic_save_npy(lp, logits.astype(np.float32, copy=False))
        atomic_save_npy(hp, hidden.astype(np.float32, copy=False))
        _atomic_write_json(rp, {"start": start, "stop": stop, "logits_sha256": _sha256_file(lp),
                                "hidden_sha256": _sha256_file(hp)})

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
