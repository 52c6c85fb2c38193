"""The benchmarks of dsl-plugin, a package run as modules from the repository root:

    python -m benchmarks.run               # DSL vs the baselines, resumable (results/README.md)
    python -m benchmarks.teacher_pass      # fill the teacher cache of the benchmark data sets
    python -m benchmarks.perf              # speed and memory of the teacher and student (results/perf.md)
    python -m benchmarks.quality_study     # the levers for the default DSL (results/quality_study.md)
    python -m benchmarks.sweep_dsl / choose_lm / compare_tokenizers / diagnose_teacher / judge_check / gpu
    python -m benchmarks.theta_sharpness   # how flat each model's theta is, and KL-retrieval P@10 (diagnostic)
    python -m benchmarks.bench_data NAME   # a benchmark data set as an OCTIS folder

Every entry point calls :func:`setup_environment` before it imports anything heavy: the one place that sets
the process environment of the benchmarks (offline Hugging Face hub, no tokenizer threads, the torch/OpenMP
thread count). Importing a module of this package changes nothing in the environment.

Where files go (read at call time, so a subprocess of the harness sees the same folders):

* results: ``benchmarks/results`` (``$DSL_BENCH_RESULTS``): Markdown reports and the ``*.jsonl`` records;
* work: ``benchmarks/work`` (``$DSL_BENCH_WORK``): generated OCTIS folders, baseline embeddings (git-ignored);
* logs: ``benchmarks/logs`` (``$DSL_BENCH_LOGS``): one log per run of the harness (git-ignored);
* the shared data sets: ``$DSL_SHARED_DATA``, else a ``shared/data`` folder above the working directory
  (:func:`benchmarks.bench_data.shared_data_dir`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: what :func:`setup_environment` sets when the caller has not set it already
ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",  # the packaged LMs and local model folders only: nothing is downloaded
    "TOKENIZERS_PARALLELISM": "false",  # no tokenizer threads next to torch's (and no fork warning)
    # one thread per run: on a shared 2-core box OpenMP spin-waiting makes 2 threads 5-20x slower
    "BENCH_THREADS": "1",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # local Ray (perf.py section 7) on the loopback interface only
}


def setup_environment() -> None:
    """Set the benchmarks' process environment (variables already set are kept): :data:`ENVIRONMENT`, and
    ``OMP_NUM_THREADS`` = ``BENCH_THREADS``. Call it first in every entry point, before torch or
    transformers are imported (the Hugging Face hub reads ``HF_HUB_OFFLINE`` once, when it is imported);
    torch's thread count is set too if torch is imported already. Subprocesses inherit all of it."""
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("OMP_NUM_THREADS", os.environ["BENCH_THREADS"])
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads())


def threads() -> int:
    """Torch intra-op threads of one benchmark process (``$BENCH_THREADS``, default 1)."""
    return int(os.environ.get("BENCH_THREADS", ENVIRONMENT["BENCH_THREADS"]))


def results_dir() -> Path:
    """The folder of reports and result records (``$DSL_BENCH_RESULTS``, default ``benchmarks/results``)."""
    return Path(os.environ.get("DSL_BENCH_RESULTS", HERE / "results"))


def work_dir() -> Path:
    """The folder of generated data and model work files (``$DSL_BENCH_WORK``, default ``benchmarks/work``)."""
    return Path(os.environ.get("DSL_BENCH_WORK", HERE / "work"))


def logs_dir() -> Path:
    """The folder of the harness's per-run logs (``$DSL_BENCH_LOGS``, default ``benchmarks/logs``)."""
    return Path(os.environ.get("DSL_BENCH_LOGS", HERE / "logs"))
