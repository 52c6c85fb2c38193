"""The ECRTM backbone (Wu et al. 2023, "Effective Neural Topic Modeling with Embedding Clustering Regularization")
trained on the DSL target, or on the bag of words (the ECRTM baseline, :mod:`dsl_plugin.baselines._ecrtm`).

A ProdLDA-style VAE whose topic-word matrix comes from embeddings: ``beta[k, w] = softmax_k(-||t_k - e_w||^2 /
beta_temp)`` (each word's column is a distribution over topics); word logits ``BN(theta beta)``. Word
embeddings (initialised from offline vectors, L2-normalised) and topic embeddings are both learned. The embedding
clustering regularisation (ECR) is the entropic optimal-transport cost between the K topic embeddings (uniform
mass 1/K) and the V word embeddings (uniform mass 1/V), solved by Sinkhorn: it makes every topic embedding the
centre of its own cluster of word embeddings, which keeps topics from collapsing onto the same words.

Loss per document: ``weight * reconstruction + KL(q || prior) + ECR``, the prior the fixed Laplace approximation
of a Dirichlet(1) (mean 0, variance 1 - 1/K), ECR a batch term (the same for every document of the batch: the
batch's summed loss is batch size x ECRTM's mean loss).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._network import gaussian_encoder, posterior_theta, prior_kl, reconstruction_loss
from ._sinkhorn import sinkhorn, squared_distances, uniform_log

#: ECRTM's settings (the authors' and the paper's appendix): beta temperature, ECR weight, Sinkhorn alpha and
#: iterations
BETA_TEMP, ECR_WEIGHT, SINKHORN_ALPHA, SINKHORN_MAX_ITER = 0.2, 100.0, 20.0, 1000


def _frozen_scale_bn(size: int) -> nn.BatchNorm1d:
    """BatchNorm with a learned shift and a scale fixed at 1 (ECRTM's)."""
    bn = nn.BatchNorm1d(size, affine=True)
    bn.weight.requires_grad_(False)
    return bn


class ECRTMNetwork(nn.Module):
    """ECRTM over an arbitrary input representation.

    Args:
        input_size: dimension of the document representation (LM hidden state; BoW for the baseline).
        word_vectors: V x D initial word embeddings (normalised to unit length, then learned).
        num_topics: K.
        hidden_sizes, activation, dropout: the encoder (ECRTM: 2 x 200 softplus).
        beta_temp, ecr_weight, sinkhorn_alpha, sinkhorn_max_iter: ECRTM's settings.
    """

    full_batch = False

    def __init__(self, input_size: int, word_vectors: torch.Tensor, num_topics: int, hidden_sizes=(200, 200),
                 activation: str = "softplus", dropout: float = 0.2, beta_temp: float = BETA_TEMP,
                 ecr_weight: float = ECR_WEIGHT, sinkhorn_alpha: float = SINKHORN_ALPHA,
                 sinkhorn_max_iter: int = SINKHORN_MAX_ITER):
        super().__init__()
        word_vectors = torch.as_tensor(word_vectors, dtype=torch.float32)
        self.encoder, self.f_mu, self.f_log_var = gaussian_encoder(input_size, num_topics, hidden_sizes, activation,
                                                                   dropout)
        self.f_mu_bn = _frozen_scale_bn(num_topics)
        self.f_log_var_bn = _frozen_scale_bn(num_topics)
        self.register_buffer("prior_mean", torch.zeros(num_topics))
        self.register_buffer("prior_variance", torch.full((num_topics,), 1.0 - 1.0 / num_topics))
        self.word_embeddings = nn.Parameter(F.normalize(word_vectors.clone(), dim=1))
        topics = nn.init.trunc_normal_(torch.empty(num_topics, word_vectors.shape[1]), std=0.1)
        self.topic_embeddings = nn.Parameter(F.normalize(topics, dim=1))
        self.decoder_bn = _frozen_scale_bn(word_vectors.shape[0])
        self.num_topics = num_topics
        self.beta_temp, self.ecr_weight = float(beta_temp), float(ecr_weight)
        self.sinkhorn_alpha, self.sinkhorn_max_iter = float(sinkhorn_alpha), int(sinkhorn_max_iter)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of theta's logits."""
        h = self.encoder(x)
        return self.f_mu_bn(self.f_mu(h)), self.f_log_var_bn(self.f_log_var(h))

    def _cost(self) -> torch.Tensor:
        return squared_distances(self.topic_embeddings, self.word_embeddings)

    @property
    def beta(self) -> torch.Tensor:
        """Topic-word matrix (K x V; each word's column sums to 1 over the topics)."""
        return torch.softmax(-self._cost() / self.beta_temp, dim=0)

    def ecr(self, cost: torch.Tensor | None = None) -> torch.Tensor:
        """The embedding clustering regularisation: ``ecr_weight`` x the transport cost between uniform topics and
        uniform words."""
        cost = self._cost() if cost is None else cost
        plan, _ = sinkhorn(cost, uniform_log(cost.shape[0], cost), uniform_log(cost.shape[1], cost),
                           self.sinkhorn_alpha, self.sinkhorn_max_iter)
        return self.ecr_weight * (plan * cost).sum()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, log_var = self.encode(x)
        theta = posterior_theta(mu, log_var, num_samples=1)
        cost = self._cost()
        beta = torch.softmax(-cost / self.beta_temp, dim=0)
        return {"mu": mu, "log_var": log_var, "theta": theta, "word_logits": self.decoder_bn(theta @ beta),
                "ecr": self.ecr(cost)}

    def loss(self, out: dict[str, torch.Tensor], target: torch.Tensor, cfg) -> torch.Tensor:
        """Per document: ``cfg.weight`` x reconstruction (``cfg.loss`` / ``cfg.kl_direction``, logits divided by
        ``cfg.student_temperature``) + KL to the prior + the batch's ECR."""
        rec = reconstruction_loss(out["word_logits"], target, cfg.loss, cfg.kl_direction, cfg.student_temperature)
        kl = prior_kl(out["mu"], out["log_var"], self.prior_mean, self.prior_variance)
        return cfg.weight * rec + kl + out["ecr"]

    @torch.no_grad()
    def theta(self, x: torch.Tensor, num_samples: int = 10, generator: torch.Generator | None = None,
              estimate: str = "samples") -> torch.Tensor:
        return posterior_theta(*self.encode(x), num_samples, generator, estimate)

    def prepare_inference(self, x: torch.Tensor) -> None:
        """Nothing to do: theta of a document depends on that document only."""
