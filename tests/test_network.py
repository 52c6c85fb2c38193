"""ProdLDA network shapes and the DSL loss, checked against a hand computation in numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dsl_plugin.student import ProdLDANetwork, dsl_loss, prior_kl, reconstruction_loss

K, V, H, N = 3, 5, 7, 4
WEIGHT = 1e3
STUDENT_T = 2.5


@pytest.fixture
def batch():
    torch.manual_seed(0)
    net = ProdLDANetwork(input_size=H, vocab_size=V, num_topics=K, hidden_sizes=(6, 6), dropout=0.0)
    with torch.no_grad():  # a non-trivial learnt prior, so every term of the prior KL matters
        net.prior_mean.copy_(torch.tensor([0.3, -0.2, 0.1]))
        net.prior_variance.copy_(torch.tensor([0.5, 0.9, 1.4]))
    x = torch.randn(N, H)
    net.train()
    out = net(x)
    rng = np.random.default_rng(0)
    target = rng.dirichlet(np.ones(V), size=N).astype(np.float32)  # soft labels: rows sum to 1
    return net, out, torch.from_numpy(target)


def _np(t):
    return t.detach().double().numpy()


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _hand_loss(net, out, target, loss, direction):
    mu, log_var, logits = _np(out["mu"]), _np(out["log_var"]), _np(out["word_logits"])
    pm, pv = _np(net.prior_mean), _np(net.prior_variance)
    t = _np(target)
    log_p = _log_softmax(logits / STUDENT_T)
    p = np.exp(log_p)
    if loss == "nll":
        rec = -(t * log_p).sum(1)
    elif direction == "target_model":  # KL(target || model)
        rec = (t * (np.log(t) - log_p)).sum(1)
    else:  # KL(model || target)
        rec = (p * (log_p - np.log(t))).sum(1)
    var = np.exp(log_var)
    kl_prior = 0.5 * (var / pv + (mu - pm) ** 2 / pv - 1.0 + np.log(pv) - log_var).sum(1)
    return WEIGHT * rec + kl_prior, rec, kl_prior


def test_forward_shapes(batch):
    net, out, _ = batch
    assert out["mu"].shape == out["log_var"].shape == out["theta"].shape == (N, K)
    assert out["word_logits"].shape == (N, V)
    assert net.beta.shape == (K, V)
    assert torch.allclose(out["theta"].sum(1), torch.ones(N), atol=1e-5)  # dropout=0: theta is a distribution


@pytest.mark.parametrize("loss,direction", [("kl", "target_model"), ("kl", "model_target"), ("nll", "target_model")])
def test_dsl_loss_matches_hand_computation(batch, loss, direction):
    net, out, target = batch
    got = dsl_loss(net, out, target, weight=WEIGHT, loss=loss, kl_direction=direction,
                   student_temperature=STUDENT_T)
    expected, rec, kl_prior = _hand_loss(net, out, target, loss, direction)
    assert got.shape == (N,)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-5, atol=1e-3)
    # the two terms separately too
    np.testing.assert_allclose(_np(reconstruction_loss(out["word_logits"], target, loss, direction, STUDENT_T)), rec,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(prior_kl(out["mu"], out["log_var"], net.prior_mean, net.prior_variance)), kl_prior,
                               rtol=1e-5, atol=1e-6)
    if loss == "kl":
        assert np.all(rec >= 0)


def test_kl_directions_differ(batch):
    net, out, target = batch
    a = dsl_loss(net, out, target, WEIGHT, "kl", "target_model", STUDENT_T)
    b = dsl_loss(net, out, target, WEIGHT, "kl", "model_target", STUDENT_T)
    assert not torch.allclose(a, b, rtol=1e-3)


def test_student_temperature_changes_the_loss(batch):
    net, out, target = batch
    a = dsl_loss(net, out, target, WEIGHT, "kl", "target_model", 1.0)
    b = dsl_loss(net, out, target, WEIGHT, "kl", "target_model", STUDENT_T)
    assert not torch.allclose(a, b, rtol=1e-3)


def test_kl_is_zero_when_model_equals_target():
    logits = torch.randn(N, V)
    target = torch.softmax(logits / STUDENT_T, dim=1)
    for direction in ("target_model", "model_target"):
        rec = reconstruction_loss(logits, target, "kl", direction, STUDENT_T)
        assert torch.allclose(rec, torch.zeros(N), atol=1e-5)


def test_prior_initialisation_and_bad_arguments():
    net = ProdLDANetwork(H, V, num_topics=4)
    assert torch.allclose(net.prior_mean, torch.zeros(4))
    assert torch.allclose(net.prior_variance, torch.full((4,), 0.75))
    assert {n for n, _ in net.named_parameters()} >= {"prior_mean", "prior_variance", "beta"}
    fixed = ProdLDANetwork(H, V, num_topics=4, learn_priors=False)
    assert "prior_mean" not in {n for n, _ in fixed.named_parameters()}
    with pytest.raises(ValueError, match="num_topics must be >= 1"):
        ProdLDANetwork(H, V, num_topics=0)
    with pytest.raises(ValueError, match="activation"):
        ProdLDANetwork(H, V, num_topics=2, activation="tanh")
    logits, target = torch.randn(2, V), torch.full((2, V), 1.0 / V)
    with pytest.raises(ValueError, match="loss must be"):
        reconstruction_loss(logits, target, loss="mse")
    with pytest.raises(ValueError, match="kl_direction"):
        reconstruction_loss(logits, target, kl_direction="sideways")


def test_theta_inference_is_a_distribution_and_seeded():
    torch.manual_seed(1)
    net = ProdLDANetwork(H, V, num_topics=K).eval()
    x = torch.randn(N, H)
    a = net.theta(x, num_samples=5, generator=torch.Generator().manual_seed(3))
    b = net.theta(x, num_samples=5, generator=torch.Generator().manual_seed(3))
    assert a.shape == (N, K)
    assert torch.equal(a, b)
    assert torch.allclose(a.sum(1), torch.ones(N), atol=1e-5)


def test_theta_temperature_divides_the_sample_in_training_and_at_inference():
    """theta = softmax(z / T): the mean estimate is softmax(mu / T), a training pass's theta is the tempered softmax of
    the same sample (same generator state), and T > 1 gives flatter proportions; other backbones refuse T != 1."""
    from dsl_plugin.student import build_backbone

    torch.manual_seed(1)
    x = torch.randn(N, H)
    plain = ProdLDANetwork(H, V, num_topics=K, dropout=0.0)
    warm = ProdLDANetwork(H, V, num_topics=K, dropout=0.0, theta_temperature=2.0)
    warm.load_state_dict(plain.state_dict())  # the same weights: only the temperature differs
    for net in (plain, warm):
        net.eval()
    mu, log_var = warm.encode(x)
    assert torch.allclose(warm.theta(x, estimate="mean"), torch.softmax(mu / 2.0, 1))
    assert torch.allclose(plain.theta(x, estimate="mean"), torch.softmax(mu, 1))
    assert (warm.theta(x, estimate="mean").max(1).values < plain.theta(x, estimate="mean").max(1).values).all()
    sampled = [net.theta(x, 3, torch.Generator().manual_seed(5), estimate="samples") for net in (plain, warm)]
    assert (sampled[1].max(1).values < sampled[0].max(1).values).all()
    torch.manual_seed(7)
    eps = torch.randn(mu.shape)
    torch.manual_seed(7)
    out = warm(x)  # eval mode: BatchNorm's running statistics, as encode() above
    assert torch.allclose(out["theta"], torch.softmax((mu + eps * torch.exp(0.5 * log_var)) / 2.0, 1), atol=1e-6)
    with pytest.raises(ValueError, match="theta_temperature other than 1 needs backbone='prodlda'"):
        build_backbone("fastopic", H, V, K, theta_temperature=2.0)


def test_topic_overlap_measures_duplicate_topics_up_to_each_words_offset_and_scale():
    from dsl_plugin.student import topic_overlap

    rng = torch.Generator().manual_seed(0)
    beta = torch.randn(6, 400, generator=rng)
    distinct = float(topic_overlap(beta))
    assert 0 <= distinct < 0.01  # random profiles are nearly uncorrelated
    dup = beta.clone()
    dup[1] = dup[0]
    dup[3] = dup[2]
    assert float(topic_overlap(dup)) > distinct + 0.1  # two duplicate pairs among 15 pairs
    # a word's offset and (positive) scale in beta are free under the decoder BatchNorm: the measure ignores them
    shifted = dup * torch.rand(400, generator=rng).add(0.5) + torch.randn(400, generator=rng) * 10
    assert float(topic_overlap(shifted)) == pytest.approx(float(topic_overlap(dup)), rel=1e-4)
    assert float(topic_overlap(beta[:2])) == 0.0  # two topics: after standardisation, opposed profiles
    assert float(topic_overlap(torch.cat([dup[:2], beta[4:]]))) == pytest.approx(1 / 6, abs=.02)  # 1 pair of 6
    assert float(topic_overlap(beta[:1])) == 0.0  # a single topic
    flat = beta.clone()
    flat[:, :5] = 0.7  # words every topic weighs alike (zero variance across topics): finite, no gradient
    flat.requires_grad_(True)
    topic_overlap(flat).backward()
    assert torch.isfinite(flat.grad).all() and float(flat.grad[:, :5].abs().sum()) == 0.0


def test_diversity_weight_pulls_topics_apart_and_zero_changes_nothing():
    from dsl_plugin.student import TrainConfig, topic_overlap, train_network

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(128, H, generator=gen)
    target = torch.softmax(torch.randn(128, 40, generator=gen) * 2, dim=1)

    def trained(weight, loss=None):
        torch.manual_seed(0)
        net = ProdLDANetwork(H, 40, 8, hidden_sizes=(16,), dropout=0.0)
        cfg = TrainConfig(batch_size=32, num_epochs=15, diversity_weight=weight, show_progress=False)
        train_network(net, x, target, cfg, torch.Generator().manual_seed(1), loss=loss)
        return net.beta.detach().clone()

    plain = trained(0.0)
    # weight 0 trains exactly as the backbone's own loss alone (what DSL <= 0.4 trained)
    assert torch.equal(plain, trained(0.0, loss=lambda net, out, y: net.loss(out, y, TrainConfig())))
    assert float(topic_overlap(trained(1e4))) < 0.5 * float(topic_overlap(plain))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="diversity_weight must be a finite number >= 0"):
            train_network(ProdLDANetwork(H, 40, 8), x, target, TrainConfig(diversity_weight=bad))
    with pytest.raises(ValueError, match="with loss=.*topic_overlap"):  # a custom loss would silently drop it
        trained(1.0, loss=lambda net, out, y: net.loss(out, y, TrainConfig()))
