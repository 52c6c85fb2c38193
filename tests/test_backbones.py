"""The DSL target on other backbones (ETM, ECRTM, FASTopic): each loss checked by hand on a tiny case (numpy, an
independent Sinkhorn in float64), the shared Sinkhorn, and DSL(backbone=...) as an OCTIS model: outputs, zero extra
LM passes, partitions, save/load, Optimizer-typed hyper-parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dsl_plugin import DSL
from dsl_plugin.student import ECRTMNetwork, ETMNetwork, FASTopicNetwork, TrainConfig, build_backbone
from dsl_plugin.student._sinkhorn import _log_domain, sinkhorn, squared_distances, uniform_log
from dsl_plugin.teacher import SoftLabelTeacher

K, V, H, D, N = 3, 5, 7, 4, 6
WEIGHT = 10.0
NEW_BACKBONES = ("etm", "ecrtm", "fastopic")


def _np(t):
    return t.detach().double().numpy()


def _softmax(z, axis):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _sqdist(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def _np_sinkhorn(cost, a, b, alpha, iterations=20000):
    """Plain Sinkhorn scaling in float64, run to convergence (the reference)."""
    kernel = np.exp(-alpha * (cost - cost.min()))
    u, v = np.ones_like(a), np.ones_like(b)
    for _ in range(iterations):
        v = b / (kernel.T @ u)
        u = a / (kernel @ v)
    return u[:, None] * kernel * v[None, :]


def _kl_rows(t, p):
    return (t * (np.log(t) - np.log(p))).sum(1)


@pytest.fixture
def case():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.randn(N, H)
    target = torch.from_numpy(rng.dirichlet(np.ones(V), size=N).astype(np.float32))
    words = rng.normal(size=(V, D)).astype(np.float32)
    return x, target, words


CFG = TrainConfig(weight=WEIGHT, loss="kl", kl_direction="target_model", student_temperature=2.5)


def test_etm_loss_by_hand(case):
    x, target, words = case
    net = ETMNetwork(H, words, K, hidden_sizes=(6,), dropout=0.0).train()
    out = net(x)
    loss = net.loss(out, target, CFG)
    assert loss.shape == (N,)
    theta, mu, log_var = _np(out["theta"]), _np(out["mu"]), _np(out["log_var"])
    np.testing.assert_allclose(theta.sum(1), 1.0, atol=1e-6)
    beta = _softmax(words.astype(np.float64) @ _np(net.alpha.weight).T, axis=0).T  # K x V, rows sum to 1
    np.testing.assert_allclose(_np(net.beta), beta, rtol=1e-5, atol=1e-7)
    p = _softmax(np.log(theta @ beta) / 2.5, axis=1)  # the mixture, tempered by the student temperature
    kl_prior = 0.5 * (mu ** 2 + np.exp(log_var) - 1.0 - log_var).sum(1)  # KL(q || N(0, I))
    np.testing.assert_allclose(_np(loss), WEIGHT * _kl_rows(_np(target), p) + kl_prior, rtol=1e-5)
    # the word vectors are fixed (a buffer), the topic embeddings learned
    assert "rho" not in dict(net.named_parameters()) and "alpha.weight" in dict(net.named_parameters())


def test_ecrtm_loss_by_hand(case):
    x, target, words = case
    net = ECRTMNetwork(H, words, K, hidden_sizes=(6,), dropout=0.0).train()
    with torch.no_grad():  # non-zero BatchNorm shifts, so that every term is exercised
        net.decoder_bn.bias.copy_(torch.linspace(-0.5, 0.5, V))
    out = net(x)
    loss = net.loss(out, target, CFG)
    theta, mu, log_var = _np(out["theta"]), _np(out["mu"]), _np(out["log_var"])
    t_emb, w_emb = _np(net.topic_embeddings), _np(net.word_embeddings)
    np.testing.assert_allclose(np.linalg.norm(w_emb, axis=1), 1.0, rtol=1e-6)  # initialised normalised
    cost = _sqdist(t_emb, w_emb)
    beta = _softmax(-cost / 0.2, axis=0)  # over the topics: each word's column sums to 1
    np.testing.assert_allclose(_np(net.beta), beta, rtol=1e-4, atol=1e-7)
    z = theta @ beta
    z = (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5) + np.linspace(-0.5, 0.5, V)  # BatchNorm (train), scale 1
    log_p = np.log(_softmax(z / 2.5, axis=1))  # tempered logits
    rec = (_np(target) * (np.log(_np(target)) - log_p)).sum(1)
    var_prior = 1.0 - 1.0 / K  # Laplace approximation of Dirichlet(1): mean 0
    kl = 0.5 * (np.exp(log_var) / var_prior + mu ** 2 / var_prior - 1.0 + np.log(var_prior) - log_var).sum(1)
    np.testing.assert_allclose(_np(loss - out["ecr"]), WEIGHT * rec + kl, rtol=1e-5)
    # ECR: 100 x the transport cost between uniform topics and uniform words (Sinkhorn alpha 20); the network's
    # Sinkhorn stops at ECRTM's tolerance (column sums within 0.005), the reference runs to convergence
    plan = _np_sinkhorn(cost, np.full(K, 1 / K), np.full(V, 1 / V), 20.0)
    np.testing.assert_allclose(_np(out["ecr"]), 100.0 * (plan * cost).sum(), rtol=2e-3)


def test_fastopic_loss_by_hand(case):
    x, target, _ = case
    net = FASTopicNetwork(H, V, K).train()
    with torch.no_grad():  # non-uniform learned masses
        net.topic_weights.copy_(torch.tensor([0.2, -0.1, 0.4]))
        net.word_weights.copy_(torch.linspace(-0.3, 0.3, V))
    out = net(x)
    loss = net.loss(out, target, CFG)
    docs = _np(x) / np.linalg.norm(_np(x), axis=1, keepdims=True)  # unit-length document embeddings
    t_emb, w_emb = _np(net.topic_embeddings), _np(net.word_embeddings)
    c_dt, c_tw = _sqdist(docs, t_emb), _sqdist(t_emb, w_emb)
    p_dt = _np_sinkhorn(c_dt, np.full(N, 1 / N), _softmax(np.array([0.2, -0.1, 0.4]), 0), 3.0)
    p_tw = _np_sinkhorn(c_tw, np.full(K, 1 / K), _softmax(np.linspace(-0.3, 0.3, V), 0), 2.0)
    theta, beta = N * p_dt, K * p_tw
    np.testing.assert_allclose(_np(out["theta"]), theta, rtol=2e-3, atol=1e-5)
    np.testing.assert_allclose(_np(net.beta), beta, rtol=2e-3, atol=1e-5)
    transport = (p_dt * c_dt).sum() + (p_tw * c_tw).sum()
    expected = WEIGHT * _kl_rows(_np(target), _softmax(np.log(theta @ beta) / 2.5, axis=1)) + transport
    np.testing.assert_allclose(_np(loss), expected, rtol=2e-3)
    # theta of new documents: the rows of the training plan, through the kept topic potential
    net.prepare_inference(x)
    np.testing.assert_allclose(_np(net.theta(x)), theta, rtol=2e-3, atol=1e-5)
    one = net.theta(x[:1])  # one document on its own gets its own row, not the topic masses
    np.testing.assert_allclose(_np(one), theta[:1], rtol=2e-3, atol=1e-5)


@pytest.mark.parametrize("loss", ["kl", "nll"])
def test_every_backbone_reduces_its_loss_and_infers_distributions(case, loss):
    x, target, words = case
    for name in ("prodlda", *NEW_BACKBONES):
        torch.manual_seed(1)
        net = build_backbone(name, H, V, K, (6,), "softplus", 0.0, True, words if name in ("etm", "ecrtm") else None)
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        cfg = TrainConfig(weight=1e3, loss=loss)
        losses = []
        for _ in range(30):
            value = net.loss(net(x), target, cfg).sum()
            opt.zero_grad()
            value.backward()
            opt.step()
            losses.append(float(value.detach()))
        assert losses[-1] < losses[0], name
        net.eval()
        net.prepare_inference(x)
        for estimate in ("samples", "mean"):
            theta = net.theta(x, 4, torch.Generator().manual_seed(0), estimate=estimate)
            assert theta.shape == (N, K) and torch.allclose(theta.sum(1), torch.ones(N), atol=1e-5), name
        assert net.beta.shape == (K, V) and torch.isfinite(net.beta).all(), name


def test_build_backbone_checks_its_arguments():
    with pytest.raises(ValueError, match="backbone must be one of"):
        build_backbone("lda", H, V, K)
    with pytest.raises(ValueError, match="needs word_vectors"):
        build_backbone("etm", H, V, K)
    with pytest.raises(ValueError, match="needs word_vectors"):
        build_backbone("ecrtm", H, V, K, word_vectors=np.zeros((V + 1, D)))


# --------------------------------------------------------------------------- Sinkhorn


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_sinkhorn_matches_a_reference_and_keeps_the_marginals(scale):
    torch.manual_seed(0)
    x, y = torch.randn(8, 3) * scale, torch.randn(5, 3)
    cost = squared_distances(x, y)
    np.testing.assert_allclose(_np(cost), _sqdist(_np(x), _np(y)), rtol=1e-5, atol=1e-4)
    log_b = torch.log_softmax(torch.randn(5), 0)
    alpha = 3.0 / scale ** 2  # a problem with a smooth plan, which the reference reaches in float64
    plan, log_v = sinkhorn(cost, uniform_log(8, cost), log_b, alpha, max_iter=5000, tol=1e-7)
    np.testing.assert_allclose(_np(plan.sum(1)), 1 / 8, rtol=1e-5)
    np.testing.assert_allclose(_np(plan.sum(0)), _np(log_b.exp()), atol=1e-6)
    reference = _np_sinkhorn(_np(cost), np.full(8, 1 / 8), _np(log_b.exp()), alpha)
    np.testing.assert_allclose(_np(plan), reference, rtol=1e-3, atol=1e-7)
    # the rows of the plan from the column potential alone (how FASTopic infers theta)
    np.testing.assert_allclose(_np(torch.softmax(-alpha * cost + log_v, 1)), reference * 8, rtol=1e-3, atol=1e-6)


def test_sinkhorn_copes_with_costs_that_underflow_and_falls_back_to_the_log_domain(monkeypatch):
    from dsl_plugin.student import _sinkhorn

    cost = torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]) * 1e3  # exp(-alpha * cost) underflows in float32
    log_a, log_b = uniform_log(2, cost), torch.log(torch.tensor([0.25, 0.5, 0.25]))
    direct, _ = _log_domain(-1.0 * cost, log_a, log_b, 500, 5e-3, 50)
    for broken in (False, True):
        if broken:  # scaling iterations that fail are replaced by the log-domain ones
            monkeypatch.setattr(_sinkhorn, "_scaling", lambda *a: (torch.full((2, 3), float("nan")), torch.zeros(3)))
        plan, _ = sinkhorn(cost, log_a, log_b, alpha=1.0, max_iter=500)
        assert torch.isfinite(plan).all()
        np.testing.assert_allclose(_np(plan.sum(1)), 0.5, rtol=1e-4)
        np.testing.assert_allclose(_np(plan.sum(0)), [0.25, 0.5, 0.25], atol=5e-3)
        np.testing.assert_allclose(_np(plan), _np(direct), atol=1e-5)


def test_sinkhorn_gradients_stay_finite_when_columns_are_far_from_every_row():
    torch.manual_seed(0)
    x = (torch.randn(64, 8) * 10).requires_grad_()  # far-apart points: alpha * cost spreads over thousands
    y = torch.randn(5, 8).requires_grad_()
    cost = squared_distances(x, y)
    plan, _ = sinkhorn(cost, uniform_log(64, cost), uniform_log(5, cost), alpha=3.0, max_iter=500)
    (plan * cost).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()


# --------------------------------------------------------------------------- DSL(backbone=...) as an OCTIS model


@pytest.fixture(scope="module")
def fitted_backbones(dataset, dsl_kwargs):
    """One short fit per new backbone on the session corpus, and the LM passes it made (must be 0)."""
    fits = {}
    for name in NEW_BACKBONES:
        before = SoftLabelTeacher.total_forward_passes
        model = DSL(num_topics=4, backbone=name, **dsl_kwargs)
        out = model.train_model(dataset)
        fits[name] = (model, out, SoftLabelTeacher.total_forward_passes - before)
    return fits


@pytest.mark.parametrize("name", NEW_BACKBONES)
def test_backbone_trains_from_the_cached_teacher_outputs(fitted_backbones, dataset, name):
    model, out, passes = fitted_backbones[name]
    assert passes == 0  # the session teacher pass is the only one
    n, vocab = len(dataset.get_corpus()), dataset.get_vocabulary()
    assert out["topic-word-matrix"].shape == (4, len(vocab)) and np.isfinite(out["topic-word-matrix"]).all()
    assert out["topic-document-matrix"].shape == (4, n)
    np.testing.assert_allclose(out["topic-document-matrix"].sum(0), 1.0, atol=1e-5)
    assert all(len(t) == 10 and set(t) <= set(vocab) for t in out["topics"])
    assert len(model.loss_history_) == 5 and np.isfinite(model.loss_history_).all()
    assert model.network_.__class__.__name__.lower().startswith(name)
    assert model.word_dim_ == (300 if name in ("etm", "ecrtm") else None)  # corpus word2vec, 300-d


@pytest.mark.parametrize("name", NEW_BACKBONES)
def test_backbone_save_load_round_trip(fitted_backbones, prepared, dsl_kwargs, tmp_path, name):
    model = fitted_backbones[name][0]
    loaded = DSL.load(model.save(tmp_path / name), cache_dir=dsl_kwargs["cache_dir"])
    assert loaded.get_params() == model.get_params() and loaded.backbone == name
    assert type(loaded.network_) is type(model.network_)
    np.testing.assert_array_equal(loaded.topic_word_matrix_, model.topic_word_matrix_)
    assert loaded.get_topics(10) == model.get_topics(10)
    docs = prepared.raw_texts
    before = SoftLabelTeacher.total_forward_passes
    np.testing.assert_array_equal(loaded.transform(docs), model.transform(docs))
    assert SoftLabelTeacher.total_forward_passes == before


def test_lm_word_embeddings_need_no_lm_pass(dataset, dsl_kwargs, teacher_run):
    teacher = teacher_run[0]
    before = SoftLabelTeacher.total_forward_passes
    model = DSL(num_topics=3, backbone="etm", word_embeddings="lm", **dsl_kwargs)
    model.train_model(dataset)
    assert SoftLabelTeacher.total_forward_passes == before  # the LM is loaded for its embedding table only
    table = teacher.lm.get_input_embeddings().weight.detach().numpy()
    tokens = teacher.encoder.word_tokens(dataset.get_vocabulary())
    expected = np.stack([table[t].mean(0) for t in tokens])
    expected /= np.linalg.norm(expected, axis=1).mean()
    np.testing.assert_allclose(model.network_.rho.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert model.word_dim_ == table.shape[1]


def test_fastopic_partitions_and_full_batch(partitioned, dsl_kwargs, monkeypatch):
    import dsl_plugin.model as model_module

    batch_sizes = []
    real_train = model_module.train_network

    def spy(net, inputs, targets=None, cfg=None, generator=None, loss=None):
        batch_sizes.append(cfg.batch_size)
        return real_train(net, inputs, targets, cfg, generator, loss)

    monkeypatch.setattr(model_module, "train_network", spy)
    model = DSL(num_topics=3, backbone="fastopic", use_partitions=True, **{**dsl_kwargs, "batch_size": 4})
    before = SoftLabelTeacher.total_forward_passes
    out = model.train_model(partitioned)
    assert SoftLabelTeacher.total_forward_passes == before
    assert out["topic-document-matrix"].shape == (3, 36) and out["test-topic-document-matrix"].shape == (3, 12)
    np.testing.assert_allclose(out["test-topic-document-matrix"].sum(0), 1.0, atol=1e-5)
    assert batch_sizes == [36]  # all training documents in one batch, whatever batch_size says


@pytest.fixture(scope="module")
def partitioned(prepared, tmp_path_factory, teacher_outputs):
    import dataclasses

    from dsl_plugin import load_dataset
    from dsl_plugin.data import write_octis_folder

    parts = ["train"] * 36 + ["test"] * 12
    return load_dataset(write_octis_folder(dataclasses.replace(prepared, partitions=parts),
                                           tmp_path_factory.mktemp("octis_partitioned_backbones")))


def test_backbone_settings_are_checked_and_cast(dataset, dsl_kwargs):
    with pytest.raises(ValueError, match="backbone must be one of"):
        DSL(backbone="lda")
    with pytest.raises(ValueError, match="word_embeddings must be one of"):
        DSL(word_embeddings="glove")
    with pytest.raises(ValueError, match="theta_temperature other than 1 needs backbone='prodlda'"):
        DSL(backbone="etm", theta_temperature=2.0).teacher_configs_for([["a", "b"]], ["a", "b"])  # before any pass
    # numpy-typed values, as OCTIS's Optimizer passes them
    model = DSL(num_topics=np.int64(3), backbone=np.str_("ecrtm"), word_embeddings=np.str_("word2vec"),
                **{**dsl_kwargs, "num_epochs": np.int64(2)})
    assert type(model.backbone) is str and type(model.num_topics) is int
    out = model.train_model(dataset, {"backbone": np.str_("etm"), "num_topics": np.int64(2),
                                      "temperature": np.float64(2.0)})
    assert model.backbone == "etm" and out["topic-document-matrix"].shape == (2, 48)
    assert isinstance(model.network_, ETMNetwork)


def test_octis_optimizer_tunes_a_backbone(dataset, dsl_kwargs, tmp_path):
    from octis.optimization.optimizer import Optimizer
    from skopt.space.space import Categorical, Integer, Real

    from dsl_plugin.metrics import Purity

    model = DSL(num_topics=3, backbone="ecrtm", **{**dsl_kwargs, "num_epochs": 2})
    before = SoftLabelTeacher.total_forward_passes
    result = Optimizer().optimize(
        model, dataset, Purity(dataset.get_labels()),
        search_space={"num_topics": Integer(2, 4), "temperature": Real(1.0, 4.0),
                      "backbone": Categorical(["etm", "ecrtm", "fastopic"])},
        number_of_call=3, n_random_starts=3, model_runs=1, save_path=str(tmp_path) + "/", save_models=False,
        plot_best_seen=False, plot_model=False, random_state=0)
    assert result is not None and len(result.func_vals) == 3 and all(0 < v <= 1 for v in result.func_vals)
    assert SoftLabelTeacher.total_forward_passes == before


def test_word2vec_needs_words(tmp_path):
    from dsl_plugin.embeddings import corpus_word2vec, word2vec_matrix

    with pytest.raises(ValueError, match="every token list is empty"):
        corpus_word2vec([[], []], tmp_path)
    path, seconds = corpus_word2vec([["alpha", "beta"], ["beta", "gamma"]], tmp_path, size=4, epochs=1)
    matrix, missing = word2vec_matrix(path, ["gamma", "delta", "alpha"])  # delta is not in the corpus
    assert matrix.shape == (3, 4) and missing == 1 and np.isfinite(matrix).all()
    again, _ = word2vec_matrix(path, ["gamma", "delta", "alpha"])
    np.testing.assert_array_equal(matrix, again)  # the missing word's random vector is seeded
