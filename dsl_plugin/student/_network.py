"""The ProdLDA variational autoencoder used by DSL, and its loss.

Architecture (identical to the ProdLDA / CTM baselines): encoder Linear(H->200)-softplus-
Linear(200->200)-softplus-dropout; mean and log-variance heads each followed by BatchNorm
(affine=False); theta = softmax(reparameterised sample) with dropout; decoder beta (K x |V|);
word logits = BatchNorm(theta . beta); learnable logistic-normal prior (mean 0, variance 1 - 1/K). Optionally
theta = softmax(z / T), a temperature T on the logistic-normal sample in training and at inference alike.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

_ACTIVATIONS = {"softplus": nn.Softplus, "relu": nn.ReLU}


class ProdLDANetwork(nn.Module):
    """ProdLDA encoder/decoder over an arbitrary input representation.

    Args:
        input_size: dimension of the document representation (LM hidden size, BoW size...).
        vocab_size: |V|, the size of the reconstruction target.
        num_topics: K.
        hidden_sizes: encoder layer widths.
        activation: ``"softplus"`` or ``"relu"``.
        dropout: dropout after the encoder and on theta.
        learn_priors: learn the prior mean and variance.
        theta_temperature: theta = softmax(z / theta_temperature) of the posterior sample z, in training and at
            inference (1: ProdLDA; above 1 flatter proportions, which the decoder is trained on too).
    """

    def __init__(self, input_size: int, vocab_size: int, num_topics: int, hidden_sizes=(200, 200),
                 activation: str = "softplus", dropout: float = 0.2, learn_priors: bool = True,
                 theta_temperature: float = 1.0):
        super().__init__()
        self.theta_temperature = float(theta_temperature)
        self.encoder, self.f_mu, self.f_sigma = gaussian_encoder(input_size, num_topics, hidden_sizes, activation,
                                                                 dropout)
        self.f_mu_bn = nn.BatchNorm1d(num_topics, affine=False)
        self.f_sigma_bn = nn.BatchNorm1d(num_topics, affine=False)
        prior_mean = torch.zeros(num_topics)
        prior_var = torch.full((num_topics,), 1.0 - 1.0 / num_topics)
        if learn_priors:
            self.prior_mean = nn.Parameter(prior_mean)
            self.prior_variance = nn.Parameter(prior_var)
        else:
            self.register_buffer("prior_mean", prior_mean)
            self.register_buffer("prior_variance", prior_var)
        self.beta = nn.Parameter(torch.empty(num_topics, vocab_size))
        nn.init.xavier_uniform_(self.beta)
        self.beta_bn = nn.BatchNorm1d(vocab_size, affine=False)
        self.drop_theta = nn.Dropout(dropout)
        self.num_topics = num_topics

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance."""
        h = self.encoder(x)
        return self.f_mu_bn(self.f_mu(h)), self.f_sigma_bn(self.f_sigma(h))

    @staticmethod
    def sample_theta(mu: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None,
                     temperature: float = 1.0) -> torch.Tensor:
        """softmax of one reparameterised sample, divided by ``temperature``."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return F.softmax((mu + eps * torch.exp(0.5 * log_var)) / temperature, dim=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One training pass: posterior, theta and the decoder's word logits (before softmax)."""
        mu, log_var = self.encode(x)
        theta = self.drop_theta(self.sample_theta(mu, log_var, temperature=self.theta_temperature))
        word_logits = self.beta_bn(theta @ self.beta)
        return {"mu": mu, "log_var": log_var, "theta": theta, "word_logits": word_logits}

    @torch.no_grad()
    def theta(self, x: torch.Tensor, num_samples: int = 10, generator: torch.Generator | None = None,
              estimate: str = "samples") -> torch.Tensor:
        """Document-topic proportions (call in eval mode): the mean of ``num_samples`` posterior samples
        (``estimate="samples"``) or the softmax of the posterior mean (``"mean"``)."""
        return posterior_theta(*self.encode(x), num_samples, generator, estimate, self.theta_temperature)

    # the backbone interface (dsl_plugin.student._backbones): loss against a target, and a no-op after training
    full_batch = False

    def loss(self, out: dict[str, torch.Tensor], target: torch.Tensor, cfg) -> torch.Tensor:
        """Per-document DSL loss of a training pass (``cfg``: a :class:`TrainConfig`)."""
        return dsl_loss(self, out, target, cfg.weight, cfg.loss, cfg.kl_direction, cfg.student_temperature)

    def prepare_inference(self, x: torch.Tensor) -> None:
        """Nothing to do: theta of a document depends on that document only."""


def mlp_encoder(input_size: int, hidden_sizes=(200, 200), activation: str = "softplus",
                dropout: float = 0.2) -> nn.Sequential:
    """Linear-activation layers of ``hidden_sizes`` widths, then dropout (the ProdLDA / CTM encoder body)."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    prev = input_size
    for h in hidden_sizes:
        layers += [nn.Linear(prev, h), _ACTIVATIONS[activation]()]
        prev = h
    layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def gaussian_encoder(input_size: int, num_topics: int, hidden_sizes=(200, 200), activation: str = "softplus",
                     dropout: float = 0.2) -> tuple[nn.Sequential, nn.Linear, nn.Linear]:
    """The encoder of the VAE backbones (ProdLDA, ETM, ECRTM): :func:`mlp_encoder` and its two heads, the
    posterior mean and log-variance of K topics (created in this order: the same seed, the same weights)."""
    if num_topics < 1:
        raise ValueError(f"num_topics must be >= 1, got {num_topics}")
    encoder = mlp_encoder(input_size, hidden_sizes, activation, dropout)
    prev = hidden_sizes[-1] if len(hidden_sizes) else input_size
    return encoder, nn.Linear(prev, num_topics), nn.Linear(prev, num_topics)


def posterior_theta(mu: torch.Tensor, log_var: torch.Tensor, num_samples: int = 10,
                    generator: torch.Generator | None = None, estimate: str = "samples",
                    temperature: float = 1.0) -> torch.Tensor:
    """theta of a logistic-normal posterior: the mean of ``num_samples`` draws of softmax((mu + eps * sigma) / T)
    (``"samples"``) or softmax(mu / T) (``"mean"``), T = ``temperature``."""
    if estimate == "mean":
        return F.softmax(mu / temperature, dim=1)
    if estimate != "samples":
        raise ValueError(f"estimate must be 'samples' or 'mean', got {estimate!r}")
    return torch.stack([ProdLDANetwork.sample_theta(mu, log_var, generator, temperature)
                        for _ in range(num_samples)]).mean(0)


def prior_kl(mu: torch.Tensor, log_var: torch.Tensor, prior_mean: torch.Tensor, prior_var: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || p(z)) per document for diagonal Gaussians."""
    var = torch.exp(log_var)
    return 0.5 * ((var / prior_var).sum(1) + ((prior_mean - mu) ** 2 / prior_var).sum(1)
                  - mu.shape[1] + torch.log(prior_var).sum() - log_var.sum(1))


def reconstruction_loss(word_logits: torch.Tensor, target: torch.Tensor, loss: str = "kl",
                        kl_direction: str = "target_model", student_temperature: float = 1.0) -> torch.Tensor:
    """Per-document reconstruction term.

    Args:
        word_logits: decoder logits (N, |V|).
        target: target distribution (rows sum to 1) for ``"kl"``; any non-negative weights
            (e.g. BoW counts) for ``"nll"``.
        loss: ``"kl"`` or ``"nll"`` (-sum target * log p_model).
        kl_direction: ``"target_model"`` = KL(target || model) (the authors' code, default) or
            ``"model_target"`` = KL(model || target) (the paper's equation 3 as written).
        student_temperature: the student's decoder logits are divided by this before the softmax
            (the authors' code uses the teacher temperature; 1 disables it).
    """
    log_p = F.log_softmax(word_logits / student_temperature, dim=1)
    if loss == "nll":
        return -(target * log_p).sum(1)
    if loss != "kl":
        raise ValueError(f"loss must be 'kl' or 'nll', got {loss!r}")
    log_t = torch.log(target.clamp_min(1e-30))
    if kl_direction == "target_model":
        return (target * (log_t - log_p)).sum(1)
    if kl_direction == "model_target":
        return (log_p.exp() * (log_p - log_t)).sum(1)
    raise ValueError(f"kl_direction must be 'target_model' or 'model_target', got {kl_direction!r}")


def topic_overlap(beta: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """How much the topics duplicate each other: over every two topics, the mean of the squared positive part of the
    cosine similarity of their word profiles (the rows of ``beta``, K x V, each word's column first standardised
    across the topics: ProdLDA's decoder BatchNorm leaves a word's offset and scale in beta free, so only the
    standardised profile says which words a topic prefers over the others). A pair of identical profiles counts 1,
    uncorrelated or opposed ones 0; the result lies in [0, 1] up to rounding. It is 0 for a single topic and for
    two (standardised across two topics, their profiles are always opposed), and it measures duplicates among many
    topics: if all K collapse onto one profile, nothing is left after the standardisation either."""
    k = beta.shape[0]
    if k < 2:
        return beta.new_zeros(())
    z = F.normalize((beta - beta.mean(0)) / (beta.std(0) + eps), dim=1, eps=eps)
    similar = (z @ z.T).clamp_min(0).square()
    return (similar.sum() - similar.diagonal().sum()) / (k * (k - 1))


def dsl_loss(net: ProdLDANetwork, out: dict[str, torch.Tensor], target: torch.Tensor, weight: float = 1e3,
             loss: str = "kl", kl_direction: str = "target_model", student_temperature: float = 1.0) -> torch.Tensor:
    """Per-document loss: ``weight * reconstruction + KL(posterior || prior)``."""
    rec = reconstruction_loss(out["word_logits"], target, loss, kl_direction, student_temperature)
    return weight * rec + prior_kl(out["mu"], out["log_var"], net.prior_mean, net.prior_variance)
