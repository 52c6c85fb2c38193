"""The ETM backbone (Dieng et al. 2020, "Topic Modeling in Embedding Spaces") trained on the DSL target.

Topics and words live in one embedding space: word embeddings ``rho`` (V x D, fixed: offline vectors, as the ETM
baseline with pre-trained embeddings) and topic embeddings ``alpha`` (K x D, learned). A topic's word distribution
is ``beta_k = softmax(rho alpha_k)``; a document's is the mixture ``theta beta``. The encoder reads the student
input (the LM hidden state) instead of the bag of words; its posterior is a Gaussian on the logits of theta with
the standard normal prior of ETM. Loss per document: ``weight * D(target, theta beta) + KL(q || N(0, I))``.
"""

from __future__ import annotations

import torch
from torch import nn

from ._network import gaussian_encoder, posterior_theta, prior_kl, reconstruction_loss

_TINY = 1e-10  # floor of a word's mixture probability before the log


class ETMNetwork(nn.Module):
    """ETM over an arbitrary input representation.

    Args:
        input_size: dimension of the document representation.
        word_vectors: V x D word embeddings (fixed during training).
        num_topics: K.
        hidden_sizes, activation, dropout: the encoder (dropout after its last layer, as ETM's ``enc_drop``).
    """

    full_batch = False

    def __init__(self, input_size: int, word_vectors: torch.Tensor, num_topics: int, hidden_sizes=(200, 200),
                 activation: str = "softplus", dropout: float = 0.2):
        super().__init__()
        word_vectors = torch.as_tensor(word_vectors, dtype=torch.float32)
        self.encoder, self.f_mu, self.f_log_var = gaussian_encoder(input_size, num_topics, hidden_sizes, activation,
                                                                   dropout)
        self.register_buffer("rho", word_vectors.clone())
        self.alpha = nn.Linear(word_vectors.shape[1], num_topics, bias=False)  # topic embeddings (K x D)
        self.num_topics = num_topics

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of theta's logits."""
        h = self.encoder(x)
        return self.f_mu(h), self.f_log_var(h)

    @property
    def beta(self) -> torch.Tensor:
        """Topic-word distributions (K x V, rows sum to 1)."""
        return torch.softmax(self.alpha(self.rho).T, dim=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, log_var = self.encode(x)
        theta = posterior_theta(mu, log_var, num_samples=1)
        word_logits = torch.log(theta @ self.beta + _TINY)  # log-probabilities of the mixture
        return {"mu": mu, "log_var": log_var, "theta": theta, "word_logits": word_logits}

    def loss(self, out: dict[str, torch.Tensor], target: torch.Tensor, cfg) -> torch.Tensor:
        """Per document: ``cfg.weight`` x reconstruction (``cfg.loss`` / ``cfg.kl_direction``; the mixture's
        log-probabilities divided by ``cfg.student_temperature`` before the softmax, as ProdLDA's logits) + KL to the
        standard normal prior."""
        rec = reconstruction_loss(out["word_logits"], target, cfg.loss, cfg.kl_direction, cfg.student_temperature)
        zeros = torch.zeros_like(out["mu"][0])
        return cfg.weight * rec + prior_kl(out["mu"], out["log_var"], zeros, torch.ones_like(zeros))

    @torch.no_grad()
    def theta(self, x: torch.Tensor, num_samples: int = 10, generator: torch.Generator | None = None,
              estimate: str = "samples") -> torch.Tensor:
        return posterior_theta(*self.encode(x), num_samples, generator, estimate)

    def prepare_inference(self, x: torch.Tensor) -> None:
        """Nothing to do: theta of a document depends on that document only."""
