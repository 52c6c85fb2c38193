"""Tests for dsl_plugin.metrics (hand-computed values on tiny inputs)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy.special import rel_entr

from dsl_plugin.metrics import (
    HarmonicPurity,
    InversePurity,
    Purity,
    PurityFMeasure,
    RetrievalPrecision,
    contingency,
    harmonic_purity,
    inverse_purity,
    labels_from_dataset,
    purity,
    purity_f_measure,
    retrieval_precision_at_k,
)

# ---------------------------------------------------------------------------
# Purity family
# ---------------------------------------------------------------------------
# Six documents, argmax topics [0, 0, 0, 0, 1, 1], labels [a, a, a, b, b, c].
# Contingency n_ij (rows = topics, cols = a, b, c):
#   topic 0: 3 1 0   (n_k = 4)
#   topic 1: 0 1 1   (n_k = 2)
#   class sizes n_j: a = 3, b = 2, c = 1; N = 6
# Purity         = (3 + 1) / 6          = 2/3
# Inverse purity = (3 + 1 + 1) / 6      = 5/6
# Harmonic       = 2 * 2/3 * 5/6 / (2/3 + 5/6) = (10/9) / (3/2) = 20/27 (~0.7407)
# F-measure, F1(j, k) = 2 n_jk / (n_j + n_k):
#   a: max(2*3/(3+4), 0)           = 6/7
#   b: max(2*1/(2+4), 2*1/(2+2))   = 1/2
#   c: max(0, 2*1/(1+2))           = 2/3
#   F = 3/6 * 6/7 + 2/6 * 1/2 + 1/6 * 2/3 = 3/7 + 1/6 + 1/9 = 89/126 (~0.7063)
LABELS6 = ["a", "a", "a", "b", "b", "c"]
# N x K with a third topic that no document picks (must not change anything).
THETA6 = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.6, 0.3, 0.1],
        [0.5, 0.4, 0.1],
        [0.8, 0.1, 0.1],
        [0.2, 0.7, 0.1],
        [0.1, 0.6, 0.3],
    ]
)


def test_contingency_table():
    table = contingency([0, 0, 0, 0, 1, 1], LABELS6)
    np.testing.assert_array_equal(table, [[3, 1, 0], [0, 1, 1]])


def test_contingency_mixed_label_types():
    # Unorderable labels (int and str) work; columns in first-appearance order.
    np.testing.assert_array_equal(contingency([1, 0, 1], [1, "x", 1]), [[0, 1], [2, 0]])


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (purity, Fraction(2, 3)),
        (inverse_purity, Fraction(5, 6)),
        (harmonic_purity, Fraction(20, 27)),
        (purity_f_measure, Fraction(89, 126)),
    ],
)
def test_purity_family_hand_values(func, expected):
    assert func(THETA6, LABELS6) == pytest.approx(float(expected), abs=1e-12)
    # Same from OCTIS orientation (K x N) and from hard assignments.
    assert func(THETA6.T, LABELS6, doc_axis=1) == pytest.approx(float(expected), abs=1e-12)
    assert func(np.array([0, 0, 0, 0, 1, 1]), LABELS6) == pytest.approx(float(expected), abs=1e-12)


def test_harmonic_variants_differ():
    assert harmonic_purity(THETA6, LABELS6) != pytest.approx(purity_f_measure(THETA6, LABELS6))


def test_perfect_clustering_scores_one():
    theta = np.eye(3)[[0, 0, 1, 2]]
    labels = ["x", "x", "y", "z"]
    for func in (purity, inverse_purity, harmonic_purity, purity_f_measure):
        assert func(theta, labels) == pytest.approx(1.0)


def test_argmax_tie_goes_to_lowest_topic():
    # Doc 1 is tied between topics 0 and 1 -> topic 0 -> topic 0 holds {a, b}.
    theta = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    # contingency: t0: a1 b1; t1: b1 -> purity = (1 + 1)/3
    assert purity(theta, ["a", "b", "b"]) == pytest.approx(2 / 3)


def test_octis_purity_classes():
    output = {"topic-document-matrix": THETA6.T}
    assert Purity(LABELS6).score(output) == pytest.approx(2 / 3)
    assert InversePurity(LABELS6).score(output) == pytest.approx(5 / 6)
    assert HarmonicPurity(LABELS6).score(output) == pytest.approx(20 / 27)
    assert PurityFMeasure(LABELS6).score(output) == pytest.approx(89 / 126)
    test_output = {"topic-document-matrix": np.ones((3, 2)), "test-topic-document-matrix": THETA6.T}
    assert Purity(LABELS6, matrix="test-topic-document-matrix").score(test_output) == pytest.approx(2 / 3)
    info = Purity(LABELS6).info()
    assert info["name"] == "Purity" and info["description"]


# ---------------------------------------------------------------------------
# Retrieval precision
# ---------------------------------------------------------------------------
# d0 = [0.70, 0.30] label X
# d1 = [0.99, 0.01] label X
# d2 = [0.30, 0.70] label Y
# KL values (natural log):
#   KL(d0||d1) = .7 ln(.7/.99) + .3 ln(.3/.01)  = -.2426 + 1.0204 = 0.7777
#   KL(d0||d2) = .7 ln(.7/.3)  + .3 ln(.3/.7)   = .4 ln(7/3)      = 0.3389
#   KL(d1||d0) = .99 ln(.99/.7) + .01 ln(.01/.3) = .3432 - .0340  = 0.3091
#   KL(d1||d2) = .99 ln(.99/.3) + .01 ln(.01/.7) = 1.1820 - .0425 = 1.1395
#   KL(d2||d0) = .3 ln(.3/.7)  + .7 ln(.7/.3)   = .4 ln(7/3)      = 0.3389
#   KL(d2||d1) = .3 ln(.3/.99) + .7 ln(.7/.01)  = -.3582 + 2.9740 = 2.6158
# Direction KL(query||candidate), nearest other doc:
#   q=d0: d2 (.3389 < .7777) -> Y, miss
#   q=d1: d0 (.3091 < 1.1395) -> X, hit
#   q=d2: d0 (.3389 < 2.6158) -> X, miss          P@1 = 1/3
# Direction KL(candidate||query):
#   q=d0: d1 (KL(d1||d0)=.3091 < KL(d2||d0)=.3389) -> X, hit
#   q=d1: d0 (.7777 < 2.6158) -> X, hit
#   q=d2: d0 (.3389 < 1.1395) -> X, miss          P@1 = 2/3
# P@2 (= all other docs): d0 1/2, d1 1/2, d2 0   -> 1/3 in both directions.
# Without self-exclusion every query would retrieve itself (KL 0): P@1 = 1.
THETA3 = np.array([[0.70, 0.30], [0.99, 0.01], [0.30, 0.70]])
LABELS3 = ["X", "X", "Y"]


def test_retrieval_hand_values_both_directions():
    fwd = retrieval_precision_at_k(THETA3, LABELS3, ks=(1, 2))
    assert fwd == {1: pytest.approx(1 / 3), 2: pytest.approx(1 / 3)}
    rev = retrieval_precision_at_k(THETA3, LABELS3, ks=(1, 2), direction="candidate||query")
    assert rev == {1: pytest.approx(2 / 3), 2: pytest.approx(1 / 3)}
    # OCTIS orientation and class wrapper.
    assert retrieval_precision_at_k(THETA3.T, LABELS3, ks=(1,), doc_axis=1)[1] == pytest.approx(1 / 3)
    output = {"topic-document-matrix": THETA3.T}
    assert RetrievalPrecision(LABELS3, k=1).score(output) == pytest.approx(1 / 3)
    metric = RetrievalPrecision(LABELS3, k=1, direction="candidate||query")
    assert metric.score(output) == pytest.approx(2 / 3)
    assert metric.info()["name"] == "Retrieval precision@1"


def test_retrieval_default_ks():
    rng = np.random.default_rng(1)
    res = retrieval_precision_at_k(rng.dirichlet(np.ones(4), size=20), rng.integers(0, 3, 20))
    assert set(res) == {5, 10}


def test_retrieval_ties_lowest_index_wins_and_duplicates_count():
    # d0 = [.5, .5] (X); d1 = d2 = d3 = [.8, .2] with labels Y, X, X.
    # k=1, ties broken by lowest document index:
    #   q=d0: d1, d2, d3 tied       -> d1 (Y) miss
    #   q=d1: d2, d3 tied at KL 0   -> d2 (X) miss (query is Y)
    #   q=d2: d1, d3 tied at KL 0   -> d1 (Y) miss
    #   q=d3: d1, d2 tied at KL 0   -> d1 (Y) miss      P@1 = 0
    # (Highest-index tie-breaking would give 3/4.) Duplicates of the query
    # are retrieved; only the query's own row is excluded.
    theta = np.array([[0.5, 0.5], [0.8, 0.2], [0.8, 0.2], [0.8, 0.2]])
    labels = ["X", "Y", "X", "X"]
    for direction in ("query||candidate", "candidate||query"):
        for chunk in (1, 3, 100):
            res = retrieval_precision_at_k(theta, labels, ks=(1, 3), direction=direction, chunk_size=chunk)
            # k=3 (all others): d0 2/3, d1 2/3, d2 1/3, d3 1/3 -> 1/2
            assert res == {1: 0.0, 3: pytest.approx(0.5)}


def test_retrieval_handles_zeros_with_eps():
    theta = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    res = retrieval_precision_at_k(theta, ["a", "a", "b"], ks=(1,))
    # d0 -> d1 (a, hit); d1 -> d0 (hit); d2 -> d0 (tie with d1, lowest index; miss)
    assert res[1] == pytest.approx(2 / 3)


def _reference_precision(theta, labels, k, direction):
    """Brute force: full N x N KL via scipy.special.rel_entr, stable argsort."""
    p = np.clip(theta, 1e-10, None)
    p = p / p.sum(axis=1, keepdims=True)
    kl = rel_entr(p[:, None, :], p[None, :, :]).sum(axis=2)  # kl[i, j] = KL(p_i || p_j)
    if direction == "candidate||query":
        kl = kl.T
    np.fill_diagonal(kl, np.inf)
    top = np.argsort(kl, axis=1, kind="stable")[:, :k]
    labels = np.asarray(labels)
    return float((labels[top] == labels[:, None]).mean())


@pytest.mark.parametrize("direction", ["query||candidate", "candidate||query"])
def test_retrieval_chunked_equals_unchunked_and_reference(direction):
    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.full(8, 0.3), size=300)
    labels = rng.integers(0, 5, size=300).tolist()
    ks = (1, 5, 10)
    small = retrieval_precision_at_k(theta, labels, ks=ks, direction=direction, chunk_size=7)
    big = retrieval_precision_at_k(theta, labels, ks=ks, direction=direction, chunk_size=10_000)
    assert small == big
    for k in ks:
        assert big[k] == pytest.approx(_reference_precision(theta, labels, k, direction), abs=1e-12)
    f32 = retrieval_precision_at_k(theta, labels, ks=ks, direction=direction, dtype=np.float32)
    for k in ks:
        assert f32[k] == pytest.approx(big[k], abs=0.01)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_length_mismatch_errors_name_both_lengths():
    with pytest.raises(ValueError, match=r"\(6\).*\(5\)"):
        purity(THETA6, LABELS6[:5])
    with pytest.raises(ValueError, match=r"\(3\).*\(2\)"):
        retrieval_precision_at_k(THETA3, LABELS3[:2], ks=(1,))
    with pytest.raises(ValueError, match=r"6 documents but 5 labels"):
        Purity(LABELS6[:5]).score({"topic-document-matrix": THETA6.T})
    with pytest.raises(ValueError, match=r"3 documents but 6 labels"):
        RetrievalPrecision(LABELS6, k=1).score({"topic-document-matrix": THETA3.T})


def test_empty_inputs():
    with pytest.raises(ValueError, match="empty"):
        purity(np.zeros((0, 3)), [])
    with pytest.raises(ValueError, match="empty"):
        purity(np.array([]), [])
    with pytest.raises(ValueError, match="empty"):
        contingency([], [])
    with pytest.raises(ValueError, match="empty"):
        retrieval_precision_at_k(np.zeros((0, 2)), [], ks=(1,))
    with pytest.raises(ValueError, match="empty"):
        Purity([])
    with pytest.raises(ValueError, match="None"):
        Purity(None)
    with pytest.raises(ValueError, match="empty"):
        Purity(["a"]).score({"topic-document-matrix": np.zeros((0, 1))})


def test_bad_arguments():
    with pytest.raises(ValueError, match="topic-document-matrix"):
        Purity(LABELS6).score({"topics": [["w"]]})
    with pytest.raises(ValueError, match="test-topic-document-matrix"):
        Purity(LABELS6, matrix="test-topic-document-matrix").score({"topic-document-matrix": THETA6.T})
    with pytest.raises(ValueError, match="matrix must be one of"):
        Purity(LABELS6, matrix="topic-word-matrix")
    with pytest.raises(ValueError, match=r"\[1, 2\]"):
        retrieval_precision_at_k(THETA3, LABELS3, ks=(3,))  # k must be <= N - 1
    with pytest.raises(ValueError, match="direction"):
        retrieval_precision_at_k(THETA3, LABELS3, ks=(1,), direction="sym")
    with pytest.raises(ValueError, match="direction"):
        RetrievalPrecision(LABELS3, direction="both")
    with pytest.raises(ValueError, match="multi-label"):
        purity(THETA3, [["a"], ["b"], ["a"]])
    with pytest.raises(ValueError, match="NaN"):
        purity(np.array([[np.nan, 1.0]]), ["a"])


# ---------------------------------------------------------------------------
# OCTIS integration
# ---------------------------------------------------------------------------


def _write_octis_folder(folder: Path, rows: list[tuple[str, str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.tsv").write_text("".join(f"{d}\t{p}\t{lab}\n" for d, p, lab in rows))
    vocab = sorted({w for d, _, _ in rows for w in d.split()})
    (folder / "vocabulary.txt").write_text("\n".join(vocab) + "\n")
    (folder / "metadata.json").write_text(json.dumps({"info": {"name": "tiny"}}))


def test_labels_from_dataset_follows_octis_reordering(tmp_path):
    from octis.dataset.dataset import Dataset

    # Rows deliberately out of order; OCTIS reorders to train, val, test.
    rows = [
        ("apple pie", "test", "t1"),
        ("banana split", "train", "r1"),
        ("cherry tart", "val", "v1"),
        ("date cake", "train", "r2"),
        ("elder wine", "test", "t2"),
        ("fig roll", "train", "r3"),
    ]
    _write_octis_folder(tmp_path / "ds", rows)
    ds = Dataset()
    ds.load_custom_dataset_from_folder(str(tmp_path / "ds"))
    assert labels_from_dataset(ds, "train") == ["r1", "r2", "r3"]
    assert labels_from_dataset(ds, "val") == ["v1"]
    assert labels_from_dataset(ds, "test") == ["t1", "t2"]
    assert labels_from_dataset(ds, "all") == ["r1", "r2", "r3", "v1", "t1", "t2"]
    # Same split as the corpus OCTIS models see.
    train, test = ds.get_partitioned_corpus(use_validation=False)
    assert len(train) == 3 and len(test) == 2
    with pytest.raises(ValueError, match="partition"):
        labels_from_dataset(ds, "dev")


def test_labels_from_dataset_unlabelled_and_unpartitioned():
    from octis.dataset.dataset import Dataset

    with pytest.raises(ValueError, match="no labels"):
        labels_from_dataset(Dataset(corpus=[["a"]], metadata={}), "all")
    ds = Dataset(corpus=[["a"], ["b"]], labels=["x", "y"], metadata={})
    assert labels_from_dataset(ds, "all") == ["x", "y"]
    with pytest.raises(ValueError, match="last-training-doc"):
        labels_from_dataset(ds, "train")


def test_labels_from_dataset_bbc(shared_data):
    from octis.dataset.dataset import Dataset

    bbc = shared_data / "octis_BBC_News"
    if not (bbc / "corpus.tsv").exists():
        pytest.skip("BBC News data not available")
    ds = Dataset()
    ds.load_custom_dataset_from_folder(str(bbc))
    # metadata.json on disk says 1557, but the loader recomputes 1556 from corpus.tsv.
    assert ds.get_metadata()["last-training-doc"] == 1556
    sizes = [len(labels_from_dataset(ds, p)) for p in ("train", "val", "test", "all")]
    assert sizes == [1556, 334, 335, 2225]


N_TOPICS = 4


def _fake_theta(seed: int, n_docs: int) -> np.ndarray:
    """Deterministic K x N topic-document matrix for a given seed."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(N_TOPICS, 0.5), size=n_docs).T


def _make_fake_model():
    from octis.models.model import AbstractModel

    class FakeModel(AbstractModel):
        """Returns a seeded random theta; the 'seed' hyperparameter changes purity."""

        def __init__(self) -> None:
            super().__init__()
            self.use_partitions = True
            self.hyperparameters = {"seed": 0}

        def train_model(self, dataset, hyperparameters=None, top_words=10):
            self.hyperparameters.update(hyperparameters or {})
            train, test = dataset.get_partitioned_corpus(use_validation=False)
            vocab = dataset.get_vocabulary()
            seed = int(self.hyperparameters["seed"])
            twm = np.random.default_rng(seed).dirichlet(np.ones(len(vocab)), size=N_TOPICS)
            return {
                "topics": [[vocab[i] for i in np.argsort(-row)[:top_words]] for row in twm],
                "topic-word-matrix": twm,
                "topic-document-matrix": _fake_theta(seed, len(train)),
                "test-topic-document-matrix": _fake_theta(seed + 1000, len(test)),
            }

    return FakeModel()


def test_octis_optimizer_maximises_purity(tmp_path):
    from octis.dataset.dataset import Dataset
    from octis.optimization.optimizer import Optimizer
    from skopt.space.space import Integer

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    rows = []
    for i in range(40):
        part = "train" if i < 30 else ("val" if i < 34 else "test")
        rows.append((" ".join(rng.choice(words, 5)), part, f"c{i % 3}"))
    _write_octis_folder(tmp_path / "ds", rows)
    dataset = Dataset()
    dataset.load_custom_dataset_from_folder(str(tmp_path / "ds"))
    labels = labels_from_dataset(dataset, "train")
    assert len(labels) == 30

    model = _make_fake_model()
    metric = Purity(labels)
    result = Optimizer().optimize(
        model,
        dataset,
        metric,
        {"seed": Integer(0, 1000)},
        number_of_call=3,
        n_random_starts=2,
        model_runs=1,
        save_path=str(tmp_path / "opt") + "/",  # must be a str: OCTIS concatenates strings
        plot_best_seen=False,
        random_state=0,
    )
    seeds = result.x_iters["seed"]
    assert len(seeds) == 3
    seen = [purity(_fake_theta(s, 30), labels, doc_axis=1) for s in seeds]
    # func_vals are sign-corrected to the metric's own values for 'Maximize'.
    np.testing.assert_allclose(result.func_vals, seen)
    best = max(result.func_vals)
    assert best == pytest.approx(max(seen))
    assert result.info["dict_model_runs"]["Purity"]["iteration_0"] == [pytest.approx(seen[0])]
    # OCTIS 1.14 quirk: y_best is skopt's minimised objective, i.e. -max(purity).
    assert result.y_best == pytest.approx(-best)
    saved = json.loads((tmp_path / "opt" / "result.json").read_text())
    assert saved["optimization_type"] == "Maximize"
    assert saved["metric_attributes"] == {"matrix": "topic-document-matrix"}
    np.testing.assert_allclose(saved["f_val"], seen)


def test_nmi_and_ari_match_scikit_learn_on_argmax_assignments():
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from dsl_plugin import ARI, NMI
    from dsl_plugin.metrics import ari, nmi

    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.ones(4), size=40)
    labels = [f"c{i % 3}" for i in range(40)]
    assign = theta.argmax(1)
    codes = [i % 3 for i in range(40)]
    assert nmi(theta, labels) == pytest.approx(normalized_mutual_info_score(codes, assign))
    assert ari(theta, labels) == pytest.approx(adjusted_rand_score(codes, assign))
    perfect = np.eye(3)[[i % 3 for i in range(40)]]
    assert nmi(perfect, labels) == pytest.approx(1.0) and ari(perfect, labels) == pytest.approx(1.0)
    out = {"topic-document-matrix": theta.T}
    assert NMI(labels).score(out) == pytest.approx(nmi(theta, labels))
    assert ARI(labels).score(out) == pytest.approx(ari(theta, labels))
