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
