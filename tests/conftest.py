"""Shared fixtures for the dsl_plugin test suite.

* ``HF_HUB_OFFLINE=1``: nothing is ever downloaded; only the packaged LM (converted once to the shared
  safetensors copy under ``default_cache_dir()/"models"``) is used.
* Teacher caches never touch the user's cache: every test passes ``cache_dir=`` explicitly, and as a
  safety net ``dsl_plugin.teacher.default_cache_dir`` (used only for the *teacher* cache root) is redirected
  to a session tmp dir. ``DSL_PLUGIN_CACHE`` is left alone so the converted-model cache stays shared.
* The packaged LM is loaded at most once per session (the loader used by ``SoftLabelTeacher`` is memoised);
  a teacher still loads lazily, so "a fully cached call never loads the LM" stays testable via ``teacher.lm``.
* One real teacher pass over a small corpus (48 demo documents, |V| = 300, ``max_doc_tokens=48``) is shared
  by every test that only needs cached outputs.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import functools  # noqa: E402
import hashlib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

MAX_DOC_TOKENS = 48
VOCAB_SIZE = 300
DOCS_PER_LABEL = 8


class FakeEmbedder:
    """A tiny deterministic stand-in for a sentence-transformers model."""

    dim = 16

    def encode(self, documents):
        rows = []
        for d in documents:
            seed = int(hashlib.sha256(d.encode()).hexdigest()[:8], 16)
            rows.append(np.random.default_rng(seed).normal(size=self.dim))
        return np.asarray(rows, dtype=np.float32)


def pick_per_label(texts, labels, per_label):
    """The first ``per_label`` documents of each label (labels sorted), in that order: deterministic."""
    idx = []
    for lab in sorted(set(labels)):
        idx += [i for i, lb in enumerate(labels) if lb == lab][:per_label]
    return [texts[i] for i in idx], [labels[i] for i in idx]


@pytest.fixture
def shared_data(monkeypatch) -> Path:
    """The shared benchmark data folder, found as the benchmarks find it (``$DSL_SHARED_DATA``, else a
    ``shared/data`` folder above the working directory; exported as ``DSL_SHARED_DATA`` for the test).
    Skips the test when there is none."""
    from benchmarks.bench_data import shared_data_dir

    try:
        folder = shared_data_dir()
    except FileNotFoundError:
        pytest.skip("shared benchmark data not present (set DSL_SHARED_DATA)")
    if not (folder / "DATA.md").exists():
        pytest.skip(f"shared benchmark data not present in {folder}")
    monkeypatch.setenv("DSL_SHARED_DATA", str(folder))
    return folder


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    """One intra-op thread by default: on busy cores (CI, a background teacher pass) multi-threaded small
    forward passes are several times slower because of OpenMP barriers. Override with DSL_TEST_TORCH_THREADS."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("DSL_TEST_TORCH_THREADS", "1")))
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session", autouse=True)
def _isolated_teacher_cache(tmp_path_factory):
    """Redirect the default *teacher* cache root (not the model cache) to a tmp dir, and memoise LM loading."""
    from dsl_plugin.teacher import _runner, _store

    root = tmp_path_factory.mktemp("default_teacher_cache_root")
    real_loader = _runner.load_language_model

    @functools.lru_cache(maxsize=4)
    def memo_loader(name, dtype=None, device="cpu", revision=None):
        return real_loader(name, dtype=dtype, device=device, revision=revision)

    mp = pytest.MonkeyPatch()
    mp.setattr(_store, "default_cache_dir", lambda: Path(root))
    mp.setattr(_runner, "load_language_model", memo_loader)
    yield root
    mp.undo()


@pytest.fixture(scope="session")
def demo_corpus():
    """48 documents of the packaged demo corpus: 8 per label, 6 labels, deterministic."""
    from dsl_plugin.data import load_demo_corpus

    texts, labels = load_demo_corpus()
    return pick_per_label(texts, labels, DOCS_PER_LABEL)


@pytest.fixture(scope="session")
def prepared(demo_corpus):
    """The demo corpus tokenised with a |V| = 300 vocabulary, all documents in ``train``."""
    from dsl_plugin.data import prepare_corpus

    texts, labels = demo_corpus
    return prepare_corpus(texts, labels, vocabulary_size=VOCAB_SIZE)


@pytest.fixture(scope="session")
def teacher_cache_dir(tmp_path_factory):
    """The session's shared teacher cache (filled once by ``teacher_outputs``)."""
    return tmp_path_factory.mktemp("teacher_cache")


@pytest.fixture(scope="session")
def make_teacher():
    """Factory for quiet SoftLabelTeachers on CPU with the suite's small ``max_doc_tokens``."""
    from dsl_plugin.teacher import SoftLabelTeacher

    def make(**kw):
        kw.setdefault("max_doc_tokens", MAX_DOC_TOKENS)
        kw.setdefault("show_progress", False)
        kw.setdefault("device", "cpu")
        if kw.get("use_cache", True):
            assert kw.get("cache_dir") is not None, "tests must pass an explicit cache_dir"
            kw["cache_dir"] = str(kw["cache_dir"])
        return SoftLabelTeacher(**kw)

    return make


@pytest.fixture(scope="session")
def teacher_run(prepared, teacher_cache_dir, make_teacher):
    """The one real teacher pass over the session corpus: (teacher, outputs, forward passes it made)."""
    from dsl_plugin.teacher import SoftLabelTeacher

    teacher = make_teacher(cache_dir=teacher_cache_dir)
    before = SoftLabelTeacher.total_forward_passes
    out = teacher.compute(prepared.raw_texts, prepared.vocabulary)
    return teacher, out, SoftLabelTeacher.total_forward_passes - before


@pytest.fixture(scope="session")
def teacher_outputs(teacher_run):
    return teacher_run[1]


@pytest.fixture(scope="session")
def dataset_folder(prepared, tmp_path_factory):
    from dsl_plugin.data import write_octis_folder

    return write_octis_folder(prepared, tmp_path_factory.mktemp("octis_demo"))


@pytest.fixture(scope="session")
def dataset(dataset_folder, teacher_outputs):
    """The session corpus as a dsl_plugin OCTIS dataset (raw text kept); its teacher outputs are cached."""
    from dsl_plugin import load_dataset

    return load_dataset(dataset_folder)


@pytest.fixture(scope="session")
def dsl_kwargs(teacher_cache_dir):
    """DSL settings matching the session teacher pass (same cache key), with a short training."""
    return dict(max_doc_tokens=MAX_DOC_TOKENS, cache_dir=str(teacher_cache_dir), num_epochs=5, batch_size=16,
                device="cpu", verbose=False, seed=0)
