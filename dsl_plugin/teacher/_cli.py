"""``dsl-topic teacher``: run the teacher over an OCTIS folder into the cache ``dsl-topic fit`` reads.

One process (``--engine local``) or a Ray cluster (``--engine ray``, see :func:`compute_on_ray`). The
defaults give the cache entry that ``dsl-topic fit`` / ``DSL()`` with the same ``--lm`` reads (same
documents, vocabulary and :class:`TeacherConfig`), so a later fit runs no LM pass.
"""

from __future__ import annotations

import argparse
import time


def add_parser(sub) -> argparse.ArgumentParser:
    t = sub.add_parser("teacher", help="run the teacher over an OCTIS folder into the cache `fit` reads "
                                       "(one process, or a Ray cluster with --engine ray)")
    t.add_argument("folder", help="an OCTIS folder written by `dsl-topic prepare` (raw text kept)")
    t.add_argument("--engine", choices=["local", "ray"], default="local")
    t.add_argument("--address", default=None, help="Ray address: 'auto', 'host:6379' or 'ray://host:10001' "
                                                   "(default: $RAY_ADDRESS, else a new local Ray instance)")
    t.add_argument("--workers", type=int, default=2, help="Ray actors, one LM each (default 2)")
    t.add_argument("--gpus-per-worker", type=float, default=0, help="GPUs per Ray actor (default 0: CPU actors)")
    t.add_argument("--threads", type=int, default=None, help="torch threads (per Ray actor; default 1 there)")
    t.add_argument("--device", default="auto", help="local engine: auto | cpu | cuda")
    t.add_argument("--dtype", choices=["float32", "bfloat16", "float16", "auto"], default="float32",
                   help="part of the cache key: float32 (default) is what `fit` reads; auto: bf16 (or fp16 on "
                        "GPUs older than Ampere) on CUDA, float32 on CPU")
    t.add_argument("--max-doc-tokens", type=int, default=None,
                   help="default: DSL's (max_doc_tokens='auto': 256 for a corpus of long documents, else 128; "
                        "the preset's when --preset is given)")
    t.add_argument("--shard-size", type=int, default=256, help="documents per cache shard, the unit of work")
    t.add_argument("--cache-dir", default=None, help="teacher cache root (Ray: on a filesystem every worker sees)")
    t.add_argument("--lm", default=None, help="packaged alias, local path or HF id; 'a+b' fills one entry per LM")
    t.add_argument("--preset", default=None, metavar="NAME", help="the entry `dsl-topic fit --preset NAME` reads "
                                                                  "(paper: 128 tokens per document)")
    t.add_argument("--word-scoring", choices=["first_token", "full_word"], default=None,
                   help="the entry `dsl-topic fit --word-scoring` reads (default: DSL's)")
    return t


def run(args: argparse.Namespace) -> None:
    from ..octis_io import load_dataset
    from . import SoftLabelTeacher, compute_on_ray, resolve_device
    from ._ray import ray_session, worker_dtype

    ds = load_dataset(args.folder)
    docs, vocab = ds.get_raw_corpus(), list(ds.get_vocabulary())
    configs = _fit_configs(args, ds.get_corpus(), vocab)
    device = resolve_device(args.device) if args.engine == "local" else ("cuda" if args.gpus_per_worker else "cpu")
    dtype = args.dtype
    if dtype == "auto" and args.engine == "ray" and args.gpus_per_worker:
        with ray_session(args.address):  # the GPUs are the workers', not the driver's
            dtype = worker_dtype(args.gpus_per_worker)
    for config in configs:
        config = config.for_device(device) if dtype == "auto" else config.replace(dtype=dtype)
        t0 = time.time()
        if args.engine == "local":
            out = SoftLabelTeacher(config, device=device, num_threads=args.threads, cache_dir=args.cache_dir,
                                   shard_size=args.shard_size).compute(docs, vocab)
        else:
            out = compute_on_ray(docs, vocab, config, address=args.address, num_workers=args.workers,
                                 threads_per_worker=args.threads or 1, gpus_per_worker=args.gpus_per_worker,
                                 cache_dir=args.cache_dir, shard_size=args.shard_size)
        print(f"teacher {config.model} ({config.dtype}, engine {args.engine}): {len(docs)} documents, "
              f"{out.n_computed} computed by the LM in {time.time() - t0:.1f} s; cache entry {out.cache_path}")


def _fit_configs(args: argparse.Namespace, token_lists, vocabulary) -> list:
    """The teacher configurations (one per LM of an ensemble) that ``dsl-topic fit`` with the same ``--lm``,
    ``--preset``, ``--word-scoring`` and ``--max-doc-tokens`` reads on this folder: ``max_doc_tokens="auto"``
    resolved by the documents' length, by :meth:`DSL.teacher_configs_for` (the whole folder: a fit on its train
    partition only resolves from those documents). Bad settings are refused here, before any LM pass."""
    from ..cli import dsl_options
    from ..model import DSL

    return DSL(verbose=False, **dsl_options(args)).teacher_configs_for(token_lists, vocabulary)
