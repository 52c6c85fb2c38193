"""Baseline adapters of dsl_plugin.baselines on a small slice of the packaged demo corpus.

The fast test runs LDA and ProdLDA with reduced passes/epochs; the ``slow`` ones run every baseline
(``pytest -m slow tests/test_baselines.py``). Everything is offline (packaged MiniLM, no downloads).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from dsl_plugin import baselines  # noqa: E402
from dsl_plugin.data import load_demo_corpus, prepare_corpus, write_octis_folder  # noqa: E402
from dsl_plugin.octis_io import load_dataset  # noqa: E402

N_DOCS = 80
K = 5
TOP = 10
EMPTY_ROW = 3  # this document has no vocabulary word (StackOverflow-title-like)

# small budgets so that every model runs in seconds
FAST = {
    "LDA": {"passes": 2},
    "ProdLDA": {"num_epochs": 3},
    "CombinedTM": {"num_epochs": 3},
    "ZeroshotTM": {"num_epochs": 3},
    "ETM": {"num_epochs": 3, "w2v_epochs": 2},
    "BERTopic": {},
    "FASTopic": {"epochs": 10},
    "ECRTM": {"epochs": 3, "w2v_epochs": 2},
}


def _dataset(folder: Path, n: int = N_DOCS, offset: int = 0):
    texts, labels = load_demo_corpus()
    texts, labels = list(texts[offset:offset + n]), list(labels[offset:offset + n])
    texts[EMPTY_ROW] = "How do I do this? It is not what I have."  # only stop words / short words
    corpus = prepare_corpus(texts, labels, vocabulary_size=2000)
    write_octis_folder(corpus, folder)
    ds = load_dataset(folder)
    assert ds.get_corpus()[EMPTY_ROW] == []
    return ds


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return _dataset(tmp_path_factory.mktemp("demo80"))


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("baseline_work"))


def _check_output(out: dict, ds, k_max: int = K, exact_k: bool = True) -> None:
    vocab = set(ds.get_vocabulary())
    n, v = len(ds.get_corpus()), len(ds.get_vocabulary())
    tdm, twm = out["topic-document-matrix"], out["topic-word-matrix"]
    k = tdm.shape[0]
    assert (k == k_max) if exact_k else (1 <= k <= k_max)
    assert tdm.shape == (k, n)
    assert twm.shape == (k, v)
    assert np.isfinite(tdm).all() and np.isfinite(twm).all()
    assert (tdm >= 0).all()
    np.testing.assert_allclose(tdm.sum(axis=0), 1.0, atol=1e-6)  # every document: a distribution
    assert tdm.sum(axis=1).sum() == pytest.approx(n)  # the rows share the N documents' mass
    assert len(out["topics"]) == k
    for words in out["topics"]:
        assert len(words) == TOP
        assert set(words) <= vocab
    assert isinstance(out["notes"], str) and out["notes"]


def test_registry_and_errors(demo, work_dir):
    assert baselines.ALL_BASELINES == ["LDA", "ProdLDA", "CombinedTM", "ZeroshotTM", "ETM", "BERTopic", "BERTopic-DSL",
                                       "FASTopic", "ECRTM"]
    assert list(baselines.MODELS) == baselines.ALL_BASELINES
    with pytest.raises(ValueError, match="unknown baseline"):
        baselines.run_baseline("NMF", demo, K, 0, work_dir)
    with pytest.raises(ValueError, match="unknown override"):
        baselines.run_baseline("ProdLDA", demo, K, 0, work_dir, num_epoch=3)
    # the corpus hash of the cache keys (word2vec files; compare's fingerprint): every text, the order, boundaries
    from dsl_plugin.cache import hash_documents

    assert hash_documents(["a", "b"]) != hash_documents(["b", "a"])
    assert hash_documents(["a b"]) != hash_documents(["a", "b"])


def test_fast_smoke_lda_prodlda(demo, work_dir):
    """< 60 s: LDA and ProdLDA on 80 demo docs (one of them empty), shapes, sums, vocabulary, seeding."""
    lda = baselines.run_baseline("LDA", demo, K, 0, work_dir, top_words=TOP, **FAST["LDA"])
    _check_output(lda, demo)
    prod = baselines.run_baseline("ProdLDA", demo, K, 0, work_dir, top_words=TOP, **FAST["ProdLDA"])
    _check_output(prod, demo)
    again = baselines.run_baseline("ProdLDA", demo, K, 0, work_dir, top_words=TOP, **FAST["ProdLDA"])
    np.testing.assert_allclose(again["topic-document-matrix"], prod["topic-document-matrix"], atol=1e-6)
    assert again["topics"] == prod["topics"]
    lda2 = baselines.run_baseline("LDA", demo, K, 0, work_dir, top_words=TOP, **FAST["LDA"])
    np.testing.assert_allclose(lda2["topic-document-matrix"], lda["topic-document-matrix"], atol=1e-6)
    # LDA's topic-word matrix is put in dataset-vocabulary order: topics follow from its rows
    twm = lda["topic-word-matrix"]
    vocab = demo.get_vocabulary()
    assert lda["topics"][0][0] == vocab[int(np.argmax(twm[0]))]
    np.testing.assert_allclose(twm.sum(axis=1), 1.0, atol=1e-4)


def test_fast_smoke_ecrtm(demo, work_dir):
    """ECRTM on 80 demo docs (one empty): shapes, sums, seeding, word vectors shared with ETM, notes."""
    out = baselines.run_baseline("ECRTM", demo, K, 0, work_dir, top_words=TOP, **FAST["ECRTM"])
    _check_output(out, demo)
    assert np.isfinite(out["topic-document-matrix"][:, EMPTY_ROW]).all()
    np.testing.assert_allclose(out["topic-word-matrix"].sum(axis=0), 1.0, atol=1e-5)  # ECRTM: softmax over topics
    assert "glove-wiki-gigaword-200" in out["notes"] and "word2vec" in out["notes"]
    assert set(out["timing"]) == {"embed_s", "fit_s"}
    again = baselines.run_baseline("ECRTM", demo, K, 0, work_dir, top_words=TOP, **FAST["ECRTM"])
    np.testing.assert_allclose(again["topic-document-matrix"], out["topic-document-matrix"], atol=1e-6)
    assert again["timing"]["embed_s"] == 0.0  # the corpus word2vec is cached
    other = baselines.run_baseline("ECRTM", demo, K, 1, work_dir, top_words=TOP, **FAST["ECRTM"])
    assert not np.allclose(other["topic-document-matrix"], out["topic-document-matrix"])
    with pytest.raises(ValueError, match="unknown override"):
        baselines.run_baseline("ECRTM", demo, K, 0, work_dir, num_epochs=3)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["LDA", "ProdLDA", "CombinedTM", "ZeroshotTM", "ETM", "BERTopic", "FASTopic",
                                  "ECRTM"])
def test_every_baseline_small(name, demo, work_dir):
    out = baselines.run_baseline(name, demo, K, 0, work_dir, top_words=TOP, **FAST[name])
    _check_output(out, demo, exact_k=(name != "BERTopic"))
    assert set(out["timing"]) == {"embed_s", "fit_s"}
    if name == "BERTopic":
        assert "approximate_distribution" in out["notes"]
    if name == "ETM":
        assert "word2vec" in out["notes"]
        # the empty document got a real (finite) distribution from the encoder, not NaN
        assert np.isfinite(out["topic-document-matrix"][:, EMPTY_ROW]).all()


@pytest.mark.slow
def test_seeds_reproduce_and_differ(demo, work_dir):
    for name in ("ZeroshotTM", "FASTopic", "ETM"):
        a = baselines.run_baseline(name, demo, K, 1, work_dir, top_words=TOP, **FAST[name])
        b = baselines.run_baseline(name, demo, K, 1, work_dir, top_words=TOP, **FAST[name])
        c = baselines.run_baseline(name, demo, K, 2, work_dir, top_words=TOP, **FAST[name])
        np.testing.assert_allclose(a["topic-document-matrix"], b["topic-document-matrix"], atol=1e-5, err_msg=name)
        assert not np.allclose(a["topic-document-matrix"], c["topic-document-matrix"]), name


@pytest.mark.slow
def test_ctm_gets_each_corpus_embeddings_and_keeps_no_pickle(demo, tmp_path, work_dir, monkeypatch):
    """OCTIS's CTM unpickles any <bert_path>_train.pkl it finds: each run must hand it its own corpus's
    embeddings, fresh, and leave no pickle in the work folder (tests/test_robustness.py plants one)."""
    import pickle

    import octis.models.CTM as octis_ctm

    read = []
    real_load = octis_ctm.CTM.load_bert_data

    def spy(bert_path, texts, bert_model):
        with open(bert_path, "rb") as f:
            read.append(pickle.load(f))
        return real_load(bert_path, texts, bert_model)

    monkeypatch.setattr(octis_ctm.CTM, "load_bert_data", staticmethod(spy))
    other = _dataset(tmp_path / "other", n=60, offset=100)
    shared = tmp_path / "shared_work"
    for ds in (demo, other):
        out = baselines.run_baseline("ZeroshotTM", ds, K, 0, str(shared), top_words=TOP, num_epochs=1)
        _check_output(out, ds)
    assert [r.shape[0] for r in read] == [N_DOCS, 60]
    emb, _ = baselines.minilm_embeddings(list(demo.get_raw_corpus()), str(shared))
    np.testing.assert_allclose(read[0], emb)  # the embeddings of the raw text
    assert not list(shared.rglob("*.pkl"))


def test_plain_octis_dataset(demo, work_dir):
    """A plain OCTIS Dataset (no get_raw_corpus) works for an embedding baseline: joined tokens with a warning,
    or the raw_documents.jsonl next to its folder when it has one."""
    import warnings

    from octis.dataset.dataset import Dataset

    plain = Dataset(corpus=demo.get_corpus(), vocabulary=demo.get_vocabulary(), labels=demo.get_labels())
    assert not hasattr(plain, "get_raw_corpus")
    with pytest.warns(UserWarning, match="no raw text"):
        out = baselines.run_baseline("ZeroshotTM", plain, K, 0, work_dir, top_words=TOP, num_epochs=1)
    _check_output(out, plain)
    plain.dataset_path = demo.dataset_path
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        out = baselines.run_baseline("ZeroshotTM", plain, K, 0, work_dir, top_words=TOP, num_epochs=1)
    _check_output(out, plain)
