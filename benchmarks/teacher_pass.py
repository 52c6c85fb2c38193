"""Run (or resume) the teacher over benchmark data sets, filling the shared cache.

    python -m benchmarks.teacher_pass --variant DSL --lm gemma3-270m --lm smollm2-135m   # the default protocol's sets
    python -m benchmarks.teacher_pass --lm gemma3-270m --datasets stackoverflow tweet_topic   # full-size sets
    python -m benchmarks.teacher_pass --variant Q-sm-chat --datasets stackoverflow-4k          # a variant's teacher

Interrupt at any time: finished shards are kept and the next call resumes.
"""

from __future__ import annotations

import argparse
import logging
import time

from dsl_plugin.compare import append_run

from . import results_dir, setup_environment
from .bench_data import DATASETS
from .machine import machine_info
from .run import DEFAULT_DATASETS, bench_corpus, teacher_configs
from .variants import DSL_VARIANTS


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    from dsl_plugin.teacher import TeacherConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lm", action="append", default=[], help="LM alias/path (repeatable), default settings")
    ap.add_argument("--variant", action="append", default=[], choices=sorted(DSL_VARIANTS),
                    help="the teacher passes of a DSL variant of benchmarks/variants.py (repeatable)")
    ap.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS,
                    choices=sorted(DATASETS), help="default: the data sets of run.py's default protocol")
    ap.add_argument("--max-doc-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--word-scoring", choices=["first_token", "full_word"], default="first_token",
                    help="full_word: the cache of the DSL-*fullword benchmark variants (much slower)")
    args = ap.parse_args(argv)
    if not args.lm and not args.variant:
        ap.error("give at least one --lm or --variant")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for lm in args.lm:
        config = TeacherConfig(model=lm, max_doc_tokens=args.max_doc_tokens, word_scoring=args.word_scoring)
        for name in args.datasets:
            _pass(config, None, name, args.threads)
    for variant in args.variant:
        for name in args.datasets:  # a variant's teachers on this set (max_doc_tokens="auto" resolved by its length)
            for config in teacher_configs(variant, name):
                _pass(config, variant, name, args.threads)


def _pass(config, variant: str | None, name: str, threads: int | None) -> None:
    """One teacher pass over a benchmark data set (resumed from the cache), recorded in ``teacher_runs.jsonl``."""
    import torch

    from dsl_plugin.teacher import SoftLabelTeacher

    corpus = bench_corpus(name)
    teacher = SoftLabelTeacher(config, num_threads=threads)
    t0, c0 = time.time(), time.process_time()
    out = teacher.compute(corpus.raw_texts, corpus.vocabulary)
    dt, cpu = time.time() - t0, time.process_time() - c0
    rate = out.n_computed / dt if out.n_computed else float("nan")
    record = {"lm": config.model, "dataset": name, "n_docs": len(corpus),
              "unique_docs": len(set(corpus.raw_texts)), "computed": out.n_computed,
              "seconds": round(dt, 1), "cpu_seconds": round(cpu, 1), "max_doc_tokens": config.max_doc_tokens,
              "word_scoring": config.word_scoring, **({"variant": variant} if variant else {}),
              "threads": torch.get_num_threads(), "machine": machine_info(), "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
    append_run(record, results_dir() / "teacher_runs.jsonl")
    logging.info("DONE %s %s: %d docs, %d computed in %.0f s (%.2f docs/s), cache %s", config.model, name,
                 len(corpus), out.n_computed, dt, rate, out.cache_path)


if __name__ == "__main__":
    main()
