"""Atomic writes of files and folders (the one implementation used by caches, dataset folders and saved models).

* A file is written to a unique temporary name next to its destination and moved into place with
  ``os.replace``: readers see the old file or the new one, never half of one.
* Temporary files are created with mode ``0o666`` and folders with ``0o777``, so the process umask applies
  (0644 / 0755 under the usual umask 022) and files in a shared folder stay readable by its other users.
  ``tempfile.mkstemp`` / ``mkdtemp`` would give 0600 / 0700.
* On any failure the temporary file or folder is removed, and an ``OSError`` names the destination
  (``[Errno 28] No space left on device: '/path/shard_00000.logits.npy'``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np


def _temporary_sibling(path: Path, tag: str = "tmp") -> Path:
    return path.with_name(f"{path.name}.{tag}{os.getpid()}-{secrets.token_hex(4)}")


def _with_path(error: OSError, path: Path) -> OSError:
    """The same error (same errno, hence the same subclass) naming ``path``."""
    if error.filename is not None and str(path) in str(error):
        return error
    if error.errno is None:
        return OSError(f"cannot write {path}: {error}")
    return OSError(error.errno, error.strerror or str(error), str(path))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary sibling name of ``path`` for a writer that wants a file name (``model.save(tmp)``): moved to
    ``path`` when the block ends, removed if it raises (an ``OSError`` then names ``path``)."""
    path = Path(path)
    tmp = _temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError):
            raise _with_path(e, path) from e
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], fsync: bool = False) -> Path:
    """Write ``path`` atomically: ``write(f)`` fills a binary temporary file that then replaces ``path``."""
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0666 minus the umask
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
    return Path(path)


def file_blocks(path: str | os.PathLike, size: int = 1 << 20) -> Iterator[bytes]:
    """The bytes of a file in blocks of ``size``."""
    with open(path, "rb") as f:
        while block := f.read(size):
            yield block


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    for block in file_blocks(path):
        digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj) -> Path:
    """JSON (indent 1, UTF-8). The text is built before the file is touched: an unserialisable object
    leaves the old file as it was."""
    return atomic_write_text(path, json.dumps(obj, indent=1, ensure_ascii=False))


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """``np.save`` atomically, fsync'ed (teacher-cache shards must survive a power cut once committed)."""
    return atomic_write(path, lambda f: np.save(f, np.ascontiguousarray(array)), fsync=True)


def read_json_object(path: str | os.PathLike) -> dict:
    """A JSON object from ``path``; ``ValueError`` naming the file if it is not valid JSON or not an object."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(obj).__name__}")
    return obj


def check_folder_target(path: str | os.PathLike, replaceable: Callable[[Path], bool]) -> Path:
    """Raise now (before any long computation) if :func:`atomic_write_folder` could not write ``path``.

    ``path`` must be missing, an empty folder, or a folder ``replaceable(path)`` accepts; its nearest existing
    parent must be a writable folder (checked by creating and removing a probe folder in it).

    Raises:
        FileExistsError: ``path`` is a file, or a non-empty folder that may not be replaced.
        NotADirectoryError / PermissionError / OSError: the parent cannot hold it (the message names it).
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise FileExistsError(f"{path} exists and is not a folder")
        if any(path.iterdir()) and not replaceable(path):
            raise FileExistsError(f"refusing to replace {path}: the folder is not empty and is not a saved "
                                  "DSL model (no config.json); choose another path")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(20, f"cannot create {path}: {parent} is not a folder", str(path))
    probe = _temporary_sibling(parent / ".dsl-write-check")
    try:
        probe.mkdir()
    except OSError as e:
        raise _with_path(e, path) from e
    probe.rmdir()
    return path


def atomic_write_folder(path: str | os.PathLike, fill: Callable[[Path], None],
                        replaceable: Callable[[Path], bool] = lambda p: False) -> Path:
    """Create the folder ``path`` atomically: ``fill(tmp)`` writes a temporary sibling folder, which is then
    renamed to ``path``. An existing ``path`` (only if empty or ``replaceable``) is moved aside first and
    deleted once the new folder is in place; if anything fails, the old folder is put back and the
    temporary one removed. A crash between the two renames leaves the old folder as ``<name>.old<pid>-*``.
    """
    path = Path(path)
    check_folder_target(path, replaceable)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(path)
    old = None
    try:
        tmp.mkdir()  # 0777 minus the umask
        fill(tmp)
        if path.exists():
            old = _temporary_sibling(path, "old")
            os.rename(path, old)
        os.rename(tmp, path)
    except BaseException as e:
        if old is not None and not path.exists():
            os.rename(old, path)
            old = None
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise _with_path(e, path) from e
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path
