"""DSL as an OCTIS model: outputs, metrics, Optimizer, hyper-parameters, seeds, persistence, ablations."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

from dsl_plugin import DSL, load_dataset
from dsl_plugin.data import write_octis_folder
from dsl_plugin.lm import DEFAULT_LM
from dsl_plugin.teacher import SoftLabelTeacher

from conftest import MAX_DOC_TOKENS, FakeEmbedder, pick_per_label

K = 4


def _check_output(out, k, n_docs, vocab):
    assert set(out) >= {"topics", "topic-word-matrix", "topic-document-matrix"}
    assert len(out["topics"]) == k and all(len(t) == 10 for t in out["topics"])
    assert all(w in set(vocab) for t in out["topics"] for w in t)
    assert all(len(set(t)) == 10 for t in out["topics"])
    assert out["topic-word-matrix"].shape == (k, len(vocab))
    assert out["topic-document-matrix"].shape == (k, n_docs)
    assert np.isfinite(out["topic-word-matrix"]).all()
    np.testing.assert_allclose(out["topic-document-matrix"].sum(0), 1.0, atol=1e-5)
    assert (out["topic-document-matrix"] >= 0).all()


HIDDEN = {"gemma3-270m": 640, "smollm2-135m": 576}  # last hidden state width of the packaged LMs


@pytest.fixture(scope="module")
def fitted(dataset, dsl_kwargs):
    before = SoftLabelTeacher.total_forward_passes
    model = DSL(num_topics=K, **dsl_kwargs)
    out = model.train_model(dataset)
    return model, out, SoftLabelTeacher.total_forward_passes - before


# --------------------------------------------------------------------------- OCTIS output and metrics


def test_train_model_output(fitted, dataset):
    model, out, passes = fitted
    _check_output(out, K, len(dataset.get_corpus()), dataset.get_vocabulary())
    assert "test-topic-document-matrix" not in out
    assert passes == 0  # the teacher outputs came from the session cache
    assert out["topics"] == model.get_topics(10)
    assert np.array_equal(out["topic-word-matrix"], model.topic_word_matrix_)


def test_octis_metrics_score_the_output(fitted, dataset):
    from octis.evaluation_metrics.coherence_metrics import Coherence
    from octis.evaluation_metrics.diversity_metrics import InvertedRBO, TopicDiversity

    from dsl_plugin.metrics import Purity

    _, out, _ = fitted
    cv = Coherence(texts=dataset.get_corpus(), topk=10, measure="c_v").score(out)
    irbo = InvertedRBO(topk=10).score(out)
    td = TopicDiversity(topk=10).score(out)
    purity = Purity(dataset.get_labels()).score(out)
    for value in (cv, irbo, td, purity):
        assert np.isfinite(value)
    assert 0 <= td <= 1 and 0 <= irbo <= 1 and 0 < purity <= 1


def test_train_model_on_octis_native_dataset_reads_raw_documents(fitted, dataset_folder, dsl_kwargs):
    from octis.dataset.dataset import Dataset

    _, ref, _ = fitted
    ds = Dataset()
    ds.load_custom_dataset_from_folder(str(dataset_folder))
    before = SoftLabelTeacher.total_forward_passes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "falls back to the joined tokens" warning
        out = DSL(num_topics=K, **dsl_kwargs).train_model(ds)
    assert SoftLabelTeacher.total_forward_passes == before  # same raw text -> same cache entry
    assert np.array_equal(out["topic-document-matrix"], ref["topic-document-matrix"])


def test_dataset_without_raw_text_falls_back_to_tokens_with_a_warning(prepared, dsl_kwargs):
    from octis.dataset.dataset import Dataset

    ds = Dataset(corpus=prepared.tokens[:3], vocabulary=prepared.vocabulary)
    with pytest.warns(UserWarning, match="no raw text"):
        out = DSL(num_topics=2, **dsl_kwargs).train_model(ds)
    assert out["topic-document-matrix"].shape == (2, 3)


@pytest.fixture(scope="module")
def partitioned_dataset(prepared, tmp_path_factory):
    """The session corpus with its last 12 rows as the test partition (raw order unchanged)."""
    n_test = 12
    parts = ["train"] * (len(prepared) - n_test) + ["test"] * n_test
    folder = write_octis_folder(dataclasses.replace(prepared, partitions=parts),
                                tmp_path_factory.mktemp("octis_partitioned"))
    return load_dataset(folder)


def test_use_partitions_gives_test_matrix_with_one_teacher_pass(partitioned_dataset, teacher_outputs, dsl_kwargs):
    ds = partitioned_dataset
    before = SoftLabelTeacher.total_forward_passes
    model = DSL(num_topics=K, use_partitions=True, **dsl_kwargs)
    out = model.train_model(ds)
    _check_output(out, K, 36, ds.get_vocabulary())
    assert out["test-topic-document-matrix"].shape == (K, 12)
    np.testing.assert_allclose(out["test-topic-document-matrix"].sum(0), 1.0, atol=1e-5)
    # every document's teacher output is in the cache (one entry for the whole corpus): no LM pass for the
    # train or test subsets
    assert SoftLabelTeacher.total_forward_passes == before
    # OCTIS's partitioning() switch
    model.partitioning(False)
    assert model.use_partitions is False and model.hyperparameters["use_partitions"] is False
    out_all = model.train_model(ds)
    assert out_all["topic-document-matrix"].shape == (K, 48) and "test-topic-document-matrix" not in out_all


# --------------------------------------------------------------------------- hyper-parameters


def test_numpy_scalar_hyperparameters(dataset, dsl_kwargs):
    kw = {**dsl_kwargs, "num_epochs": np.int64(3), "seed": np.int64(5)}
    model = DSL(num_topics=np.int64(3), temperature=np.float64(2.0), loss=np.str_("kl"), dropout=np.float64(0.1),
                use_partitions=np.bool_(False), **kw)
    assert type(model.num_topics) is int and type(model.temperature) is float and type(model.loss) is str
    assert type(model.seed) is int and type(model.use_partitions) is bool
    out = model.train_model(dataset, {"num_topics": np.int64(5), "kl_direction": np.str_("model_target"),
                                      "temperature": np.float64(4.5), "batch_size": np.int64(20)})
    assert out["topic-document-matrix"].shape == (5, 48)
    assert model.kl_direction == "model_target" and model.temperature == 4.5 and model.batch_size == 20
    json.dumps(model.hyperparameters)  # plain Python types only


def test_hyperparameters_persist_across_train_model_calls(dataset, dsl_kwargs):
    model = DSL(num_topics=K, **dsl_kwargs)
    model.train_model(dataset, {"num_topics": 3, "dropout": 0.3})
    out = model.train_model(dataset)
    assert out["topic-document-matrix"].shape == (3, 48)
    assert model.num_topics == 3 and model.hyperparameters["num_topics"] == 3
    assert model.dropout == 0.3 and model.hyperparameters["dropout"] == 0.3
    assert model.get_params()["num_topics"] == 3


def test_seed_reproducibility(dataset, dsl_kwargs):
    kw = {**dsl_kwargs, "seed": 7}
    a = DSL(num_topics=K, **kw).train_model(dataset)
    model = DSL(num_topics=K, **kw)
    b = model.train_model(dataset)
    c = model.train_model(dataset)  # the same instance re-seeds
    assert np.array_equal(a["topic-document-matrix"], b["topic-document-matrix"])
    assert np.array_equal(a["topic-word-matrix"], b["topic-word-matrix"])
    assert np.array_equal(b["topic-document-matrix"], c["topic-document-matrix"])
    d = DSL(num_topics=K, **{**kw, "seed": 8}).train_model(dataset)
    assert not np.allclose(a["topic-document-matrix"], d["topic-document-matrix"])


# --------------------------------------------------------------------------- scikit-learn style API


def test_fit_transform_get_topics(prepared, teacher_outputs, dsl_kwargs):
    docs = prepared.raw_texts
    model = DSL(num_topics=K, **dsl_kwargs)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.transform(docs)
    before = SoftLabelTeacher.total_forward_passes
    theta = model.fit_transform(docs, vocabulary_size=300)
    assert model.vocabulary_ == prepared.vocabulary
    assert SoftLabelTeacher.total_forward_passes == before  # fit() builds the same vocabulary -> cache hit
    assert theta.shape == (48, K) and np.array_equal(theta, model.document_topic_)
    t1 = model.transform(docs)
    assert t1.shape == (48, K)
    np.testing.assert_allclose(t1.sum(1), 1.0, atol=1e-5)
    assert np.array_equal(t1, model.transform(docs))  # inference is seeded
    topics = model.get_topics(5)
    assert len(topics) == K and all(len(t) == 5 for t in topics)
    new = model.transform(["The orchestra rehearsed the symphony.", "The rocket reached orbit."])
    assert new.shape == (2, K)


def test_save_load_round_trip(prepared, teacher_outputs, dsl_kwargs, tmp_path):
    docs = prepared.raw_texts
    model = DSL(num_topics=K, **dsl_kwargs)
    model.fit(docs, vocabulary_size=300)
    folder = model.save(tmp_path / "saved")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pt")) and not list(folder.rglob("*.bin"))
    loaded = DSL.load(folder, cache_dir=dsl_kwargs["cache_dir"])  # cache_dir is machine-local: not saved
    assert loaded.get_params() == model.get_params()
    assert loaded.vocabulary_ == model.vocabulary_
    assert loaded.get_topics(10) == model.get_topics(10)
    assert np.array_equal(loaded.topic_word_matrix_, model.topic_word_matrix_)
    assert np.array_equal(loaded.transform(docs), model.transform(docs))


def test_save_with_pathlib_cache_dir(prepared, teacher_outputs, dsl_kwargs, teacher_cache_dir, tmp_path):
    model = DSL(num_topics=2, **{**dsl_kwargs, "cache_dir": teacher_cache_dir})  # a pathlib.Path
    model.fit(prepared.raw_texts, vocabulary_size=300)
    loaded = DSL.load(model.save(tmp_path / "saved"), cache_dir=teacher_cache_dir)
    assert loaded.cache_dir == str(teacher_cache_dir)  # given to load(), not read from the saved folder


# --------------------------------------------------------------------------- ablations


@pytest.mark.parametrize("switches", [
    {"loss": "nll", "temperature": 1.0},
    {"target": "bow"},
    {"target": "bow", "loss": "nll"},
    {"input": "embeddings"},
    {"input": "embeddings", "target": "bow"},
], ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_ablation_switches_train(dataset, dsl_kwargs, fitted, switches):
    kw = dict(dsl_kwargs, **switches)
    if kw.get("input") == "embeddings":
        kw["embedding_model"] = FakeEmbedder()
    before = SoftLabelTeacher.total_forward_passes
    model = DSL(num_topics=K, **kw)
    out = model.train_model(dataset)
    _check_output(out, K, 48, dataset.get_vocabulary())
    assert all(np.isfinite(model.loss_history_)) and len(model.loss_history_) == 5
    assert SoftLabelTeacher.total_forward_passes == before
    assert model.input_size_ == (FakeEmbedder.dim if kw.get("input") == "embeddings" else HIDDEN[DEFAULT_LM])
    if kw.get("input") == "embeddings" and kw.get("target") == "bow":
        assert model.teacher_ is None  # nothing needs the LM
    prodlda_objective = kw.get("loss") == "nll" and kw.get("target") == "bow"
    assert model._weight() == (1.0 if prodlda_objective else 1e3)
    assert not np.allclose(out["topic-document-matrix"], fitted[1]["topic-document-matrix"])


def test_nll_on_soft_labels_equals_kl_at_the_same_temperature(dataset, dsl_kwargs, fitted):
    """Cross-entropy = KL(target||model) + H(target): same gradients, so the same fit (the ablation is tau)."""
    model = DSL(num_topics=K, **dict(dsl_kwargs, loss="nll"))
    out = model.train_model(dataset)
    assert model._weight() == 1e3
    np.testing.assert_allclose(out["topic-document-matrix"], fitted[1]["topic-document-matrix"], atol=2e-3)


# --------------------------------------------------------------------------- OCTIS Optimizer


def test_octis_optimizer_runs_and_computes_the_teacher_once(demo_corpus, tmp_path):
    from octis.optimization.optimizer import Optimizer
    from skopt.space.space import Integer, Real

    from dsl_plugin.data import prepare_corpus
    from dsl_plugin.metrics import Purity

    texts, labels = pick_per_label(*demo_corpus, 2)  # 12 documents, fresh cache: the first call computes
    folder = write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=100), tmp_path / "ds")
    ds = load_dataset(folder)
    model = DSL(num_topics=3, num_epochs=3, batch_size=8, max_doc_tokens=MAX_DOC_TOKENS // 2, device="cpu",
                verbose=False, cache_dir=str(tmp_path / "fresh_cache"))
    passes_per_call = []
    real_train = model.train_model

    def counting_train(*args, **kwargs):
        before = SoftLabelTeacher.total_forward_passes
        try:
            return real_train(*args, **kwargs)
        finally:
            passes_per_call.append(SoftLabelTeacher.total_forward_passes - before)

    model.train_model = counting_train
    result = Optimizer().optimize(
        model, ds, Purity(ds.get_labels()),
        search_space={"num_topics": Integer(3, 6), "temperature": Real(1.0, 5.0), "dropout": Real(0.0, 0.5)},
        number_of_call=3, n_random_starts=2, model_runs=2, save_path=str(tmp_path) + "/", save_models=False,
        plot_best_seen=False, plot_model=False, random_state=0)
    assert result is not None, "Optimizer.optimize returned None (invalid settings)"
    assert len(passes_per_call) == 3 * 2
    assert passes_per_call[0] > 0 and passes_per_call[1:] == [0] * 5
    assert len(result.func_vals) == 3 and all(0 < v <= 1 for v in result.func_vals)
    assert -result.y_best == pytest.approx(max(result.func_vals))  # skopt minimises -purity
    assert all(3 <= k <= 6 for k in result.x_iters["num_topics"])
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["model_name"] == "DSL" and len(saved["f_val"]) == 3
