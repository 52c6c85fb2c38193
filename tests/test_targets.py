"""Soft-label targets built by DSL from raw restricted logits."""

from __future__ import annotations

import numpy as np
import pytest

from dsl_plugin import DSL
from dsl_plugin.teacher import TeacherOutputs


def _softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("tau", [1.0, 3.0])
def test_soft_targets_are_tempered_softmax(tau):
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], np.float32)
    out = TeacherOutputs(logits=logits, hidden=np.zeros((2, 4), np.float32))
    y = DSL(temperature=tau, calibration=None, bow_weight=0)._targets(out, None)
    np.testing.assert_allclose(y, _softmax(logits / tau), rtol=1e-6)


def test_centred_logits_remove_the_corpus_mean_per_word():
    # word 0 is generically likely (high logit everywhere): centring must take that away
    logits = np.array([[9.0, 2.0, 0.0], [9.0, 0.0, 2.0]], np.float32)
    out = TeacherOutputs(logits=logits, hidden=np.zeros((2, 4), np.float32))
    plain = DSL(temperature=1.0, calibration=None, bow_weight=0)._targets(out, None)
    centred = DSL(temperature=1.0, calibration="corpus", bow_weight=0)._targets(out, None)
    assert plain[:, 0].min() > 0.99
    np.testing.assert_allclose(centred, _softmax(logits - logits.mean(0)), rtol=1e-6)
    assert centred[0].argmax() == 1 and centred[1].argmax() == 2


# --------------------------------------------------------------------------- target_neighbours


def test_neighbour_index_is_each_row_then_its_nearest_others_by_cosine():
    from dsl_plugin.student import neighbour_index

    v = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [2, 2.1]], np.float32)
    idx = neighbour_index(v, 1)
    np.testing.assert_array_equal(idx, [[0, 1], [1, 0], [2, 3], [3, 2], [4, 3]])  # cosine: scale does not count
    idx = neighbour_index(v, 6)  # more than there are: capped, every other row once (a huge k costs no memory)
    assert idx.shape == (5, 5) and all(sorted(r) == [0, 1, 2, 3, 4] and r[0] == i for i, r in enumerate(idx))
    assert neighbour_index(v[:1], 3).shape == (1, 1) and neighbour_index(v[:0], 3).shape == (0, 1)
    dup = neighbour_index(np.ones((3, 2), np.float32), 1)  # identical rows: another row, never itself
    assert all(r[1] != i for i, r in enumerate(dup))


def test_neighbour_index_of_a_large_corpus_stays_within_seeded_blocks():
    from dsl_plugin.student import neighbour_index

    v = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    a, b = neighbour_index(v, 3, seed=1, block=20), neighbour_index(v, 3, seed=1, block=20)
    np.testing.assert_array_equal(a, b)
    assert (a[:, 1:] != np.arange(50)[:, None]).all()  # blocks of 16-17 rows: three others each
    block_of = np.empty(50, int)
    for j, part in enumerate(np.array_split(np.random.default_rng(1).permutation(50), 3)):
        block_of[part] = j
    assert (block_of[a] == block_of[:, None]).all()
    exact = neighbour_index(v, 3)  # one block: the exact neighbours
    sim = (v / np.linalg.norm(v, axis=1, keepdims=True)) @ (v / np.linalg.norm(v, axis=1, keepdims=True)).T
    np.fill_diagonal(sim, -np.inf)
    np.testing.assert_array_equal(exact[:, 1:], np.argsort(-sim, axis=1)[:, :3])


def test_the_torch_neighbour_search_of_a_gpu_finds_what_scikit_learn_finds():
    """The GPU path (torch, in chunks of query rows, own similarity masked) run here on the CPU: the same neighbours as
    scikit-learn's brute-force cosine search, except among exact ties (a zero row is equally far from every row)."""
    from dsl_plugin.student._targets import _sklearn_neighbours, _torch_neighbours

    x = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    x[5] = 0
    cpu, gpu_path = _sklearn_neighbours(x, 7), _torch_neighbours(x, 7, "cpu", rows=120)
    assert np.flatnonzero((cpu != gpu_path).any(axis=1)).tolist() in ([], [5])
    assert (gpu_path != np.arange(500)[:, None]).all()  # never the row itself


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_neighbour_index_on_a_gpu_equals_the_cpu_search():
    from dsl_plugin.student import neighbour_index

    x = np.random.default_rng(1).normal(size=(3000, 32)).astype(np.float32)
    np.testing.assert_array_equal(neighbour_index(x, 5, device="cuda"), neighbour_index(x, 5))


def test_target_neighbours_trains_on_the_mean_of_each_documents_and_its_neighbours_targets():
    from dsl_plugin.student import neighbour_index

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 3)).astype(np.float32)
    out = TeacherOutputs(logits=logits, hidden=np.zeros((6, 2), np.float32))
    model = DSL(temperature=1.0, calibration="corpus", bow_weight=0, neighbour_weight=None)  # None: the plain mean
    own = model._target_rows(out, None)(np.arange(6))
    index = neighbour_index(rng.normal(size=(6, 5)), 2)
    pooled = model._target_rows(out, None, index)(np.array([4, 0]))
    np.testing.assert_allclose(pooled, [own[index[4]].mean(0), own[index[0]].mean(0)], rtol=1e-6)
    np.testing.assert_allclose(pooled.sum(1), 1, rtol=1e-6)
    # neighbour_weight w: (1 - w) own + w (the neighbours' mean); w = k / (k + 1) is the plain mean
    for w in (0.0, 0.5, 0.75, 1.0):
        weighted = DSL(temperature=1.0, calibration="corpus", bow_weight=0, neighbour_weight=w)._target_rows(
            out, None, index)(np.array([4, 0]))
        np.testing.assert_allclose(weighted, [(1 - w) * own[i] + w * own[index[i][1:]].mean(0) for i in (4, 0)],
                                   rtol=1e-6)
        np.testing.assert_allclose(weighted.sum(1), 1, rtol=1e-6)
    mean_w = DSL(temperature=1.0, calibration="corpus", bow_weight=0, neighbour_weight=2 / 3)._target_rows(
        out, None, index)(np.array([4, 0]))
    np.testing.assert_allclose(mean_w, pooled, rtol=1e-5)
    assert not np.allclose(DSL(temperature=1.0, calibration="corpus", bow_weight=0, neighbour_weight=0.5)._target_rows(
        out, None, index)(np.array([4, 0])), pooled, rtol=1e-3)
    with pytest.raises(ValueError, match="neighbour_weight must be 'auto', None or a finite number in \\[0, 1\\]"):
        DSL(neighbour_weight=1.5)


class _CountingEmbedder:
    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        return np.array([[len(t), t.count("a") + 1.0, t.count("e") + 1.0] for t in texts], np.float32)


def test_a_fit_with_target_neighbours_encodes_once_and_transform_reads_no_neighbours(tmp_path):
    docs = [f"{'alpha beta' if i % 2 else 'gamma delta'} text {i}" for i in range(24)]
    kw = dict(num_topics=2, input="embeddings", target="bow", num_epochs=3, verbose=False, device="cpu")
    plain = DSL(embedding_model=_CountingEmbedder(), **kw).fit(docs)
    enc = _CountingEmbedder()
    model = DSL(embedding_model=enc, target_neighbours=3, **kw).fit(docs)
    assert enc.calls == 1  # once for the input, the neighbours and the training documents' theta
    assert not np.allclose(model.document_topic_, plain.document_topic_)  # another target
    np.testing.assert_allclose(model.transform(docs), model.document_topic_, rtol=1e-6)
    loaded = DSL.load(model.save(tmp_path / "m"), embedding_model=_CountingEmbedder())
    assert loaded.target_neighbours == 3
    np.testing.assert_allclose(loaded.transform(docs), model.document_topic_, atol=1e-6)
    for bad in (-1, 2.5, "more", True):
        with pytest.raises(ValueError, match="target_neighbours must be 'auto' or an integer >= 0"):
            DSL(target_neighbours=bad)


def test_neighbour_index_reads_rows_of_a_function_block_by_block():
    """A function of rows searches as its array does (one block, and seeded blocks), reading one block's rows per
    call; it needs the number of rows."""
    from dsl_plugin.student import neighbour_index

    v = np.random.default_rng(5).normal(size=(90, 4)).astype(np.float32)
    calls = []

    def rows_of(rows):
        calls.append(len(rows))
        return v[rows]
    np.testing.assert_array_equal(neighbour_index(rows_of, 3, n=90), neighbour_index(v, 3))
    assert calls == [90]
    calls.clear()
    np.testing.assert_array_equal(neighbour_index(rows_of, 3, seed=2, block=20, n=90),
                                  neighbour_index(v, 3, seed=2, block=20))
    assert calls == [18] * 5  # five seeded blocks, each read once
    with pytest.raises(ValueError, match="give n"):
        neighbour_index(rows_of, 3)
    with pytest.raises(ValueError, match="n=80 but vectors has 90 rows"):
        neighbour_index(v, 3, n=80)


def test_target_geometry_is_the_centred_square_root_of_the_targets_read_block_by_block():
    from dsl_plugin.student import target_geometry

    from dsl_plugin.student import target_geometry_rows

    targets = np.random.default_rng(3).dirichlet(np.ones(5), size=10).astype(np.float32)
    expected = np.sqrt(targets) - np.sqrt(targets).mean(0)
    for chunk in (3, 10, 64):  # blocks of 3 (the last one short), one block, more than the rows
        np.testing.assert_allclose(target_geometry(lambda rows: targets[rows], 10, chunk=chunk), expected, atol=1e-6)
    # the streamed mean is numpy's to the bit (a corpus of several chunks), and any rows read later are the same rows
    many = np.random.default_rng(4).dirichlet(np.full(300, .1), size=5000).astype(np.float32)
    whole = np.sqrt(many) - np.sqrt(many).mean(axis=0, keepdims=True)
    rows_of = target_geometry_rows(lambda rows: many[rows], 5000, chunk=1024)
    np.testing.assert_array_equal(rows_of(np.arange(5000)), whole)
    some = np.random.default_rng(5).permutation(5000)[:700]
    np.testing.assert_array_equal(rows_of(some), whole[some])


class _NoEncoder:
    def encode(self, texts):
        raise AssertionError("neighbour_space='targets' read the sentence encoder")


def test_neighbour_space_finds_neighbours_by_the_targets_or_both(tmp_path, monkeypatch, caplog):
    """neighbour_space="targets" pools by the own targets' Hellinger geometry (no sentence encoder read, none saved
    as the neighbours' encoder); "both" by the two side by side; "encoder" as before. The targets' search holds about
    3-4 block x |V| float32 arrays: its blocks are as large as TARGET_SEARCH_BYTES holds (neighbour_block), whatever
    the machine."""
    import dsl_plugin.model as model_mod
    import dsl_plugin.student._targets as student_targets
    from dsl_plugin.student import NEIGHBOUR_BLOCK, neighbour_block, neighbour_index, target_geometry, unit_rows

    rng = np.random.default_rng(0)
    docs = [f"{'alpha beta' if i % 2 else 'gamma delta'} text {i}" for i in range(24)]
    out = TeacherOutputs(logits=rng.normal(size=(24, 6)).astype(np.float32),
                         hidden=rng.normal(size=(24, 4)).astype(np.float32))
    kw = dict(num_topics=2, input="lm", target_neighbours=3, num_epochs=2, verbose=False, device="cpu")
    seen, blocks = [], []

    def recording(vectors, k, seed, block, device, n):  # (every row, however the search reads them)
        seen.append(vectors(np.arange(n)) if callable(vectors) else np.asarray(vectors))
        blocks.append(block)
        return neighbour_index(vectors, k, seed, block, device, n)
    monkeypatch.setattr(model_mod, "neighbour_index", recording)
    vocab = ["alpha", "beta", "gamma", "delta", "text", "extra"]

    def fitted(**extra):
        model = DSL(**{**kw, **extra})
        model.vocabulary_ = vocab
        model._fit_arrays(docs, [d.split() for d in docs], out)
        return model
    by_targets = fitted(neighbour_space="targets", embedding_model=_NoEncoder())
    own = by_targets._own_target_rows(out, by_targets._bow([d.split() for d in docs]))
    np.testing.assert_allclose(seen[-1], target_geometry(own, 24), atol=1e-6)
    assert by_targets.neighbours_embedder_ is None and by_targets.neighbour_space == "targets"
    said = "targets 50% bag of words, pooled with 3 neighbours found by the targets (their weight 0.75)"
    assert said in by_targets.describe()
    enc = _CountingEmbedder()
    both = fitted(neighbour_space="both", embedding_model=enc)
    emb = enc.encode(docs)
    np.testing.assert_allclose(seen[-1], np.concatenate([unit_rows(emb), unit_rows(target_geometry(own, 24))], 1),
                               atol=1e-5)
    assert both.neighbours_embedder_ == "custom: _CountingEmbedder"
    by_encoder = fitted(embedding_model=_CountingEmbedder())
    np.testing.assert_allclose(seen[-1], emb)
    assert not np.allclose(by_targets.document_topic_, by_encoder.document_topic_)
    loaded = DSL.load(by_targets.save(tmp_path / "m"))
    assert loaded.neighbour_space == "targets"
    np.testing.assert_allclose(loaded.transform(docs, out), by_targets.document_topic_, atol=1e-6)
    assert blocks == [NEIGHBOUR_BLOCK] * 3  # (a small vocabulary: full blocks)
    monkeypatch.setattr(student_targets, "TARGET_SEARCH_BYTES", 3 * 12 * 6 * 4)  # 12 documents' rows, 3 times over
    assert neighbour_block("targets", 6) == 12 and neighbour_block("both", 6) == 9
    assert neighbour_block("encoder", 6) == NEIGHBOUR_BLOCK and neighbour_block("both", 10**9) == 2
    small = fitted(neighbour_space="targets", embedding_model=_NoEncoder())
    assert blocks[-1] == 12 and small.target_neighbours_ == 3
    assert not np.allclose(small.document_topic_, by_targets.document_topic_)  # (other neighbours: two blocks)
    monkeypatch.setenv(model_mod.MEMORY_BUDGET_ENV, "0")  # the machine's budget does not change the search
    np.testing.assert_allclose(fitted(neighbour_space="targets", embedding_model=_NoEncoder()).document_topic_,
                               small.document_topic_, atol=1e-6)
    assert blocks[-1] == 12
    monkeypatch.delenv(model_mod.MEMORY_BUDGET_ENV)
    import logging

    with caplog.at_level(logging.WARNING, logger="dsl_plugin.model"):
        assert fitted(neighbour_space="both", target_neighbours=0).target_neighbours_ == 0
    assert "neighbour_space='both' has no effect" in caplog.text
    with pytest.raises(ValueError, match="neighbour_space must be one of"):
        DSL(neighbour_space="minilm")
