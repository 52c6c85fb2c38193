"""The teacher on a Ray cluster: Ray Data ``map_batches`` over the missing cache shards, one LM per actor.

The driver validates and deduplicates the documents exactly as :meth:`SoftLabelTeacher.compute` does,
opens the same content-keyed cache entry (same key, same shard files) and turns the shards that are
not committed yet into a Ray Dataset, one row (and one block) per shard. An actor pool of
``num_workers`` actors, each holding one loaded LM (CPU threads or a GPU), computes a shard at a time
and commits it with :meth:`CacheEntry.write_shard` (files moved into place atomically, then the commit
record). So every later ``SoftLabelTeacher``/``DSL`` fit, OCTIS ``Optimizer`` call or BERTopic model
with the same settings reads these shards, a killed actor or driver loses only the shards in flight,
and running the same call again computes only the shards still missing.

The cache directory must be one filesystem path that the driver and every worker see (a shared or
network filesystem on a cluster; any local directory on one machine), and ``dsl_plugin`` with the
same versions of torch/transformers and the LM must be importable on every node.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ._config import TeacherConfig
from ._store import gather, open_entry, unique_documents
from ._teacher import SoftLabelTeacher, TeacherOutputs

logger = logging.getLogger(__name__)

_INSTALL_HINT = "the Ray engine needs Ray Data: pip install 'dsl-plugin[distributed]' (or 'ray[data]')"


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, **init_kwargs):
    """Connect to Ray for the duration of a block, unless already connected.

    ``address=None`` starts a local Ray instance (or joins the one named by ``$RAY_ADDRESS``);
    ``"auto"`` joins a cluster started on this machine with ``ray start``; ``"ray://host:10001"``
    joins a remote cluster through Ray Client. A session this function started is shut down at the end.
    """
    ray = _import_ray()
    if ray.is_initialized():
        yield ray
        return
    init_kwargs.setdefault("include_dashboard", False)
    ray.init(address=address, **init_kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()


def worker_dtype(gpus_per_worker: float) -> str:
    """The teacher dtype for the GPUs the workers get (asked on a GPU worker: the driver may have none)."""
    ray = _import_ray()

    def probe() -> str:
        from dsl_plugin.teacher._gpu import dtype_for_device

        return dtype_for_device("cuda")

    return ray.get(ray.remote(num_gpus=gpus_per_worker, num_cpus=0)(probe).remote())


class ShardWorker:
    """Ray Data actor: one teacher (one loaded LM) that computes and commits whole cache shards.

    Built once per actor by Ray (``fn_constructor_kwargs``); each call gets a batch of rows
    ``{"shard": index, "documents": the shard's documents}`` and returns one row per shard with the
    number of documents computed (0 when the shard was already committed, e.g. by a retried task).
    """

    def __init__(self, config: TeacherConfig, vocabulary: list[str], entry, device: str, num_threads: int | None,
                 teacher_factory: Callable | None, teacher_kwargs: dict):
        if teacher_factory is None:
            self.teacher = SoftLabelTeacher(config, device=device, num_threads=num_threads,
                                            **{"show_progress": False, **teacher_kwargs})
        else:
            self.teacher = teacher_factory(config, device=device, num_threads=num_threads, **teacher_kwargs)
        self.teacher.load()  # at actor start: the LM load is not charged to the first shard
        self.entry, self.vocabulary = entry, vocabulary

    def __call__(self, batch: dict) -> dict:
        import os

        out: dict[str, list] = {"shard": [], "computed": [], "seconds": [], "pid": []}
        for i, docs in zip(batch["shard"], batch["documents"]):
            i, t0 = int(i), time.perf_counter()
            n = 0
            if not self.entry.has_shard(i):
                n = self.teacher.write_shards(self.entry, [(i, [str(d) for d in docs])], self.vocabulary)
            for key, value in (("shard", i), ("computed", n), ("seconds", time.perf_counter() - t0),
                               ("pid", os.getpid())):
                out[key].append(value)
        return {k: np.asarray(v) for k, v in out.items()}


def compute_on_ray(documents: Sequence[str], vocabulary: Sequence[str], config: TeacherConfig | None = None, *,
                   address: str | None = None, num_workers: int = 2, threads_per_worker: int = 1,
                   gpus_per_worker: float = 0, cache_dir: str | None = None, shard_size: int = 256,
                   teacher_factory: Callable | None = None, teacher_kwargs: dict | None = None,
                   show_progress: bool = True, ray_init_kwargs: dict | None = None) -> TeacherOutputs:
    """Teacher outputs for ``documents``, computed on a Ray cluster into the shared teacher cache.

    Same result, same cache entry and same errors as ``SoftLabelTeacher(config, cache_dir=cache_dir,
    shard_size=shard_size).compute(documents, vocabulary)``; only the missing shards are computed, by
    ``num_workers`` Ray actors with one LM each.

    Args:
        documents, vocabulary: as for :meth:`SoftLabelTeacher.compute`.
        config: what the teacher computes (and the cache key); default ``TeacherConfig()``. On GPUs use
            ``config.for_device("cuda")`` (bf16/fp16): the dtype is part of the cache key.
        address: Ray address (see :func:`ray_session`); ignored when Ray is already initialised.
        num_workers: actors (LM copies) in the pool; at most one per missing shard is started.
        threads_per_worker: torch threads and Ray CPUs reserved per actor.
        gpus_per_worker: GPUs per actor (0: CPU actors; 1: one GPU each; 0.5: two actors share a GPU).
        cache_dir: teacher cache root, **on a filesystem every worker sees** (default: the default
            teacher cache root, resolved on the driver).
        shard_size: documents per shard (the unit of work, of load balancing and of loss on failure)
            for a new entry; an existing entry keeps its own. A batch never spans two shards: on GPUs
            use larger shards (e.g. 2048) so that batches can be wide.
        teacher_factory: ``factory(config, device=, num_threads=, **teacher_kwargs)`` returning the
            teacher a worker uses (default: :class:`SoftLabelTeacher`); it must have ``load()`` and
            ``write_shards(entry, shards, vocabulary)`` and be importable by the workers (a module-level
            function). For tests with a stub LM, or a custom model loader.
        teacher_kwargs: more ``SoftLabelTeacher`` arguments for the workers (``max_batch_tokens``...).
        show_progress: Ray Data's progress bars.
        ray_init_kwargs: passed to ``ray.init`` when this call starts Ray (e.g. ``num_cpus``).

    Raises:
        ValueError: empty corpus, all-empty documents, empty vocabulary (before Ray is started).
        ImportError: Ray Data is not installed (``pip install 'dsl-plugin[distributed]'``).
        RuntimeError: a worker failed; the shards committed so far are kept, a rerun computes the rest.
    """
    config = config or TeacherConfig()
    unique, inverse = unique_documents(documents, vocabulary)
    for name, value in (("num_workers", num_workers), ("threads_per_worker", threads_per_worker),
                        ("shard_size", shard_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not gpus_per_worker >= 0:
        raise ValueError(f"gpus_per_worker must be >= 0, got {gpus_per_worker!r}")
    cache_dir = None if cache_dir is None else str(Path(cache_dir).resolve())  # workers may have another cwd
    entry = open_entry(config, unique, vocabulary, cache_dir, shard_size)
    todo = entry.missing_shards()
    n_todo = sum(entry.shard_range(i)[1] - entry.shard_range(i)[0] for i in todo)
    logger.info("teacher %s on Ray: %d documents (%d unique, %d shards), %d shards (%d documents) to compute",
                config.model, len(documents), len(unique), entry.n_shards, len(todo), n_todo)
    computed = 0
    if todo:
        with ray_session(address, **(ray_init_kwargs or {})) as ray:
            computed = _run_pool(ray, entry, unique, list(vocabulary), todo, config, min(num_workers, len(todo)),
                                 threads_per_worker, gpus_per_worker, teacher_factory, dict(teacher_kwargs or {}),
                                 show_progress)
    return TeacherOutputs(logits=gather(entry, "logits", inverse), hidden=gather(entry, "hidden", inverse),
                          n_computed=computed, cache_path=str(entry.path))


def _run_pool(ray, entry, unique, vocabulary, todo, config, num_workers, threads, gpus, factory, teacher_kwargs,
              show_progress) -> int:
    from ray.data import ActorPoolStrategy, DataContext

    DataContext.get_current().enable_progress_bars = bool(show_progress)
    rows = [{"shard": i, "documents": unique[slice(*entry.shard_range(i))]} for i in todo]
    ds = ray.data.from_items(rows, override_num_blocks=len(rows))  # one block per shard: balanced actors
    device = "cuda" if gpus > 0 else "cpu"
    results = ds.map_batches(
        ShardWorker, batch_size=1, batch_format="numpy",
        fn_constructor_kwargs={"config": config, "vocabulary": vocabulary, "entry": entry, "device": device,
                               "num_threads": threads, "teacher_factory": factory, "teacher_kwargs": teacher_kwargs},
        compute=ActorPoolStrategy(size=num_workers, max_tasks_in_flight_per_actor=1),
        num_cpus=threads, num_gpus=gpus or None)
    computed, workers = 0, set()
    t0 = time.perf_counter()
    try:
        for row in results.iter_rows():
            computed += int(row["computed"])
            workers.add(int(row["pid"]))
    except Exception as exc:
        missing = entry.missing_shards(verify=False)
        raise RuntimeError(f"the Ray teacher failed ({type(exc).__name__}); {entry.n_shards - len(missing)} of "
                           f"{entry.n_shards} shards are committed in {entry.path}; running the same call again "
                           f"computes only the {len(missing)} missing ones") from exc
    missing = entry.missing_shards(verify=False)
    if missing:
        raise RuntimeError(f"the Ray teacher finished with {len(missing)} shard(s) missing: {missing[:10]}")
    logger.info("teacher on Ray: %d documents computed by %d worker(s) in %.1f s", computed, len(workers),
                time.perf_counter() - t0)
    return computed
