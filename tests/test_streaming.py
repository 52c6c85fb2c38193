"""Streaming training (issue 12, part 3): teacher outputs read from the cache in batches instead of one in-RAM
array, float16 cache storage, and a fit that streams equal to the in-memory fit."""

from __future__ import annotations

import numpy as np
import pytest

from dsl_plugin.cache import make_key
from dsl_plugin.teacher import CachedTeacherOutputs, TeacherConfig
from dsl_plugin.teacher._store import ShardFiles, open_entry


def _filled_entry(tmp_path, n=300, v=23, h=6, shard_size=32, cache_dtype="float32", seed=0):
    """A complete cache entry of ``n`` synthetic documents written without an LM: (entry, docs, vocab, L, H)."""
    docs = [f"synthetic document {i}" for i in range(n)]
    vocab = [f"w{i}" for i in range(v)]
    entry = open_entry(TeacherConfig(model="org/stub", cache_dtype=cache_dtype), docs, vocab, str(tmp_path),
                       shard_size)
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 8, size=(n, v)).astype(np.float32)
    hidden = rng.normal(0, 3, size=(n, h)).astype(np.float32)
    for i in range(entry.n_shards):
        a, b = entry.shard_range(i)
        entry.write_shard(i, logits[a:b], hidden[a:b])
    return entry, docs, vocab, logits, hidden


def test_cache_dtype_float16_is_its_own_entry_and_the_default_keeps_existing_keys():
    base = TeacherConfig(model="org/some-model")
    assert "cache_dtype" not in base.identity(["a"])  # existing cache keys stay valid (pinned in test_teacher_config)
    half = base.replace(cache_dtype="float16")
    assert half.identity(["a"])["cache_dtype"] == "float16"
    assert make_key(half.identity(["a"]), ["d"]) != make_key(base.identity(["a"]), ["d"])


@pytest.mark.parametrize("cache_dtype", ["float32", "float16"])
def test_rows_are_read_on_demand_in_the_callers_order(tmp_path, cache_dtype):
    entry, docs, vocab, logits, hidden = _filled_entry(tmp_path, cache_dtype=cache_dtype)
    stored = np.load(entry.path / "shard_00000.logits.npy")
    assert stored.dtype == np.dtype(cache_dtype)
    rng = np.random.default_rng(1)
    inverse = rng.integers(0, len(docs), size=700)  # duplicates and any order, as unique_documents gives
    out = CachedTeacherOutputs(ShardFiles(entry, max_open=3), inverse)  # 3 descriptors: the LRU is exercised
    expect_l = logits.astype(cache_dtype).astype(np.float32)[inverse]
    expect_h = hidden.astype(cache_dtype).astype(np.float32)[inverse]
    assert len(out) == 700 and out.width("logits") == len(vocab) and out.width("hidden") == 6
    for idx in (rng.permutation(700)[:64], np.arange(700), np.arange(5, 6), np.arange(0)):
        got = out.read("logits", idx)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expect_l[idx])
        np.testing.assert_array_equal(out.read("hidden", idx), expect_h[idx])
    sub = out.take(np.arange(100, 200))
    np.testing.assert_array_equal(sub.read("logits", np.arange(100)), expect_l[100:200])
    mem = out.to_memory()
    np.testing.assert_array_equal(mem.logits, expect_l)
    np.testing.assert_array_equal(mem.hidden, expect_h)
    assert len(out.files._fds) <= 3


def test_float16_storage_refuses_values_beyond_its_range(tmp_path):
    docs, vocab = ["a", "b"], ["x", "y"]
    entry = open_entry(TeacherConfig(model="org/stub", cache_dtype="float16"), docs, vocab, str(tmp_path), 2)
    with pytest.raises(ValueError, match="float16 range"):
        entry.write_shard(0, np.array([[1e5, 0], [0, 0]], np.float32), np.zeros((2, 3), np.float32))
    assert entry.missing_shards() == [0]


def test_a_missing_shard_is_reported_when_read(tmp_path):
    entry, docs, *_ = _filled_entry(tmp_path, n=100)
    out = CachedTeacherOutputs(ShardFiles(entry), np.arange(len(docs)))
    (entry.path / "shard_00002.json").unlink()
    with pytest.raises(RuntimeError, match="shard 2 is missing"):
        out.read("logits", np.arange(100))


# --------------------------------------------------------------------------- batch sources and statistics

def test_column_statistics_over_chunks_equal_numpys_over_the_whole_array():
    from dsl_plugin.student import column_mean, column_std

    x = np.random.default_rng(0).normal(3, 10, size=(1003, 17)).astype(np.float32)
    chunks = [x[a:a + 100] for a in range(0, len(x), 100)]
    mean = column_mean(chunks)
    np.testing.assert_array_equal(mean, x.mean(0))  # numpy's float32 summation order: bit for bit
    np.testing.assert_array_equal(column_std(chunks, mean), x.std(0))


def test_the_training_loop_gives_the_same_network_from_either_source():
    import torch

    from dsl_plugin.student import ProdLDANetwork, RowSource, TrainConfig, infer_theta, train_network

    rng = np.random.default_rng(0)
    x = rng.normal(size=(101, 7)).astype(np.float32)
    y = rng.dirichlet(np.ones(9), size=101).astype(np.float32)
    results = []
    for source in (None, RowSource(101, lambda r: x[r], lambda r: y[r])):
        torch.manual_seed(0)
        net = ProdLDANetwork(7, 9, 3)
        cfg = TrainConfig(batch_size=16, num_epochs=3, show_progress=False)
        if source is None:
            hist = train_network(net, torch.from_numpy(x), torch.from_numpy(y), cfg, torch.Generator().manual_seed(1))
            theta = infer_theta(net, torch.from_numpy(x), 5, torch.Generator().manual_seed(2), batch_size=40)
        else:
            hist = train_network(net, source, cfg=cfg, generator=torch.Generator().manual_seed(1))
            theta = infer_theta(net, source, 5, torch.Generator().manual_seed(2), batch_size=40)
        results.append((hist, net.beta.detach().numpy(), theta))
    (h0, b0, t0), (h1, b1, t1) = results
    assert h0 == h1
    np.testing.assert_array_equal(b0, b1)
    np.testing.assert_array_equal(t0, t1)


@pytest.mark.parametrize("value, expected", [("0", 0), ("1000", 1000), ("500M", 500 * 2**20), ("8G", 8 * 2**30),
                                             ("1.5GiB", int(1.5 * 2**30)), ("2gb", 2 * 2**30)])
def test_memory_budget_is_read_from_the_environment(monkeypatch, value, expected):
    from dsl_plugin.model import MEMORY_BUDGET_ENV, memory_budget

    monkeypatch.setenv(MEMORY_BUDGET_ENV, value)
    assert memory_budget() == expected
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(ValueError, match="is not a size"):
        memory_budget()
    monkeypatch.delenv(MEMORY_BUDGET_ENV)
    assert memory_budget() > 0


# --------------------------------------------------------------------------- DSL: streamed fit == in-memory fit

def _stub_corpus(tmp_path, models, n=150, v=40, h=6, shard_size=16, cache_dtype="float32"):
    """Documents (with duplicates) over a vocabulary, and complete cache entries per LM in ``models`` for them, for
    ``docs[100:140]`` (transformed) and for the content-free document (contextual calibration), written without
    an LM."""
    from dsl_plugin.model import CONTENT_FREE_DOCUMENT

    rng = np.random.default_rng(5)
    vocab = [f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(v)]
    unique = [" ".join(rng.choice(vocab, size=8)) for _ in range(n)]
    docs = unique + unique[:20]  # duplicates: the entry holds each document once
    for k, model in enumerate(models):
        config = TeacherConfig(model=model, cache_dtype=cache_dtype)
        for texts in (unique, unique[100:140], [CONTENT_FREE_DOCUMENT]):
            entry = open_entry(config, texts, vocab, str(tmp_path), shard_size)
            r = np.random.default_rng([k, len(texts)])
            logits = r.normal(0, 6, size=(len(texts), v)).astype(np.float32)
            hidden = r.normal(2, 15, size=(len(texts), h + k)).astype(np.float32)
            for i in range(entry.n_shards):
                a, b = entry.shard_range(i)
                entry.write_shard(i, logits[a:b], hidden[a:b])
    return docs, vocab


SETTINGS = {
    "corpus-calibration+standardised+bow": dict(calibration="corpus", standardize_input=True, bow_weight=0.3,
                                                theta_estimate="samples"),
    "ensemble+contextual": dict(language_model="org/stub-a+org/stub-b", calibration="contextual", bow_weight=0.0,
                                theta_estimate="mean"),
    "float16-cache": dict(cache_dtype="float16", calibration=None, standardize_input=False, bow_weight=0.0),
    "pooled-targets": dict(target_neighbours=3, bow_weight=0.3, calibration="corpus", embedding_model=None),
    # neighbours found by the encoder and the targets: the search reads the targets' rows one block at a time
    "pooled-by-both": dict(target_neighbours=3, neighbour_space="both", bow_weight=0.3, calibration="corpus",
                           embedding_model=None),
}


class _HashEmbedder:
    """A deterministic sentence-embedding stand-in (no model): 6 numbers per document from its characters."""

    def encode(self, documents):
        return np.array([[sum(map(ord, d)) % p + 1.0 for p in (3, 5, 7, 11, 13, 17)] for d in documents], np.float32)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_fit_streamed_from_the_cache_equals_the_in_memory_fit(tmp_path, monkeypatch, name):
    from dsl_plugin import DSL
    from dsl_plugin.model import MEMORY_BUDGET_ENV
    from dsl_plugin.teacher import _teacher

    kw = {"language_model": "org/stub-a", **SETTINGS[name]}
    if "embedding_model" in kw:
        kw["embedding_model"] = _HashEmbedder()
    docs, vocab = _stub_corpus(tmp_path, kw["language_model"].split("+"), cache_dtype=kw.get("cache_dtype", "float32"))
    new_docs = docs[100:140]

    def fit_and_transform():
        model = DSL(num_topics=4, num_epochs=3, batch_size=16, hidden_sizes=(20, 20), seed=7, device="cpu",
                    verbose=False, cache_dir=str(tmp_path), **kw)
        model.fit(docs, vocabulary=vocab)
        return model, model.transform(new_docs)

    in_memory, theta_new = fit_and_transform()
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "0")  # every teacher output stays in the cache: training streams

    real_gather = _teacher.gather

    def no_full_read(entry, which, inverse):  # (the one content-free document may be read whole)
        assert len(inverse) == 1, "a streamed fit must not load the teacher outputs into memory"
        return real_gather(entry, which, inverse)

    monkeypatch.setattr(_teacher, "gather", no_full_read)
    streamed, theta_new_streamed = fit_and_transform()
    np.testing.assert_allclose(streamed.document_topic_, in_memory.document_topic_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(streamed.topic_word_matrix_, in_memory.topic_word_matrix_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(theta_new_streamed, theta_new, rtol=0, atol=1e-6)
    assert streamed.loss_history_ == pytest.approx(in_memory.loss_history_, rel=1e-6)
    np.testing.assert_allclose(streamed.transform(docs), streamed.document_topic_, atol=1e-6)  # inference streams too
    if kw.get("standardize_input"):
        np.testing.assert_array_equal(streamed.input_mean_, in_memory.input_mean_)


def test_train_model_streams_the_session_cache_like_it_reads_it_in_memory(dataset, dsl_kwargs, monkeypatch):
    pytest.importorskip("octis")
    from dsl_plugin import DSL
    from dsl_plugin.model import MEMORY_BUDGET_ENV

    kw = {**dsl_kwargs, "num_topics": 4, "calibration": "corpus", "bow_weight": 0.2}
    in_memory = DSL(**kw).train_model(dataset)
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "0")
    streamed = DSL(**kw).train_model(dataset)
    np.testing.assert_allclose(streamed["topic-document-matrix"], in_memory["topic-document-matrix"], atol=1e-6)
    np.testing.assert_allclose(streamed["topic-word-matrix"], in_memory["topic-word-matrix"], atol=1e-6)
    assert streamed["topics"] == in_memory["topics"]


def test_a_reader_keeps_every_shard_file_open_raising_the_soft_limit_within_the_hard_limit(monkeypatch):
    import resource

    from dsl_plugin.teacher._store import _max_open_files

    limits, calls = {"soft": 100, "hard": 10_000}, []
    monkeypatch.setattr(resource, "getrlimit", lambda which: (limits["soft"], limits["hard"]))
    monkeypatch.setattr(resource, "setrlimit", lambda which, value: calls.append(value))
    assert _max_open_files(40) == 40 and not calls  # half the soft limit suffices
    assert _max_open_files(500) == 500 and calls == [(1064, 10_000)]
    limits["hard"] = 100  # cannot be raised: half the soft limit, the oldest files closed first
    assert _max_open_files(500) == 50
