"""The FASTopic backbone (Wu et al. 2024, "FASTopic: a fast, adaptive, stable and transferable topic model")
trained on the DSL target.

No encoder network: documents (the student input, e.g. the LM hidden state, as fixed document embeddings),
topics and words are points in one embedding space. Two entropic transport plans (Sinkhorn) relate them:
documents -> topics (``P_DT``: uniform document mass, learned topic masses) and topics -> words (``P_TW``: uniform
topic mass, learned word masses). ``theta = N * P_DT`` (rows sum to 1), ``beta = K * P_TW`` (rows sum to 1) and a
document's word distribution is ``theta beta``, reconstructed against the target (FASTopic's "dual
semantic-relation reconstruction", here against the soft label instead of the bag of words). Loss per document:
``weight * D(target, theta beta) + <P_DT, C_DT> + <P_TW, C_TW>``, the transport costs being batch terms. It trains
on all documents at once (``full_batch``), as FASTopic does, since ``P_DT`` couples the documents of a batch.

theta of new documents: the rows of the documents -> topics plan given the topics' Sinkhorn potential found on the
training documents (:meth:`prepare_inference`), i.e. ``softmax_k(-dt_alpha * ||x - t_k||^2 + log v_k)``; for a
training document this is its row of the training plan. (FASTopic's own ``transform`` is
``exp(-distance)`` normalised by the training documents, which underflows for LM hidden states: the authors'
DSL code falls back to a plan over the inferred batch, which makes one document's theta depend on the others.)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._network import reconstruction_loss
from ._sinkhorn import sinkhorn, squared_distances, uniform_log

#: FASTopic's settings: Sinkhorn alpha of the documents -> topics and topics -> words plans, iterations at most
DT_ALPHA, TW_ALPHA, SINKHORN_MAX_ITER = 3.0, 2.0, 5000
_EPS = 1e-12  # FASTopic's floor of the reconstruction before the log


class FASTopicNetwork(nn.Module):
    """FASTopic over arbitrary fixed document embeddings.

    Args:
        input_size: dimension of the document embeddings (= of the topic and word embeddings).
        vocab_size: |V|.
        num_topics: K.
        normalize_inputs: scale every document embedding to unit length first (FASTopic's sentence embeddings
            are unit vectors; LM hidden states have norms in the hundreds, which would make every plan a hard
            assignment from the first step).
        dt_alpha, tw_alpha, sinkhorn_max_iter: FASTopic's settings.
    """

    full_batch = True

    def __init__(self, input_size: int, vocab_size: int, num_topics: int, normalize_inputs: bool = True,
                 dt_alpha: float = DT_ALPHA, tw_alpha: float = TW_ALPHA, sinkhorn_max_iter: int = SINKHORN_MAX_ITER):
        super().__init__()
        if num_topics < 1:
            raise ValueError(f"num_topics must be >= 1, got {num_topics}")
        self.topic_embeddings = nn.Parameter(F.normalize(nn.init.trunc_normal_(torch.empty(num_topics, input_size))))
        self.word_embeddings = nn.Parameter(F.normalize(nn.init.trunc_normal_(torch.empty(vocab_size, input_size))))
        self.topic_weights = nn.Parameter(torch.zeros(num_topics))  # log masses (up to a constant): uniform
        self.word_weights = nn.Parameter(torch.zeros(vocab_size))
        self.register_buffer("dt_potential", torch.zeros(num_topics))  # log v of the training documents' plan
        self.num_topics = num_topics
        self.normalize_inputs = bool(normalize_inputs)
        self.dt_alpha, self.tw_alpha, self.sinkhorn_max_iter = float(dt_alpha), float(tw_alpha), int(sinkhorn_max_iter)

    def _documents(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) if self.normalize_inputs else x

    def _doc_topic_plan(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cost = squared_distances(self._documents(x), self.topic_embeddings)
        plan, potential = sinkhorn(cost, uniform_log(cost.shape[0], cost), F.log_softmax(self.topic_weights, 0),
                                   self.dt_alpha, self.sinkhorn_max_iter)
        return plan, cost, potential

    def _topic_word_plan(self) -> tuple[torch.Tensor, torch.Tensor]:
        cost = squared_distances(self.topic_embeddings, self.word_embeddings)
        plan, _ = sinkhorn(cost, uniform_log(cost.shape[0], cost), F.log_softmax(self.word_weights, 0),
                           self.tw_alpha, self.sinkhorn_max_iter)
        return plan, cost

    @property
    def beta(self) -> torch.Tensor:
        """Topic-word matrix: K x the topics -> words plan (rows sum to 1)."""
        with torch.no_grad():
            return self._topic_word_plan()[0] * self.num_topics

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        p_dt, c_dt, _ = self._doc_topic_plan(x)
        p_tw, c_tw = self._topic_word_plan()
        theta = p_dt * x.shape[0]
        recon = theta @ (p_tw * self.num_topics)
        return {"theta": theta, "word_logits": torch.log(recon + _EPS),
                "transport": (p_dt * c_dt).sum() + (p_tw * c_tw).sum()}

    def loss(self, out: dict[str, torch.Tensor], target: torch.Tensor, cfg) -> torch.Tensor:
        """Per document: ``cfg.weight`` x reconstruction (``cfg.loss`` / ``cfg.kl_direction``; the mixture's
        log-probabilities divided by ``cfg.student_temperature``) + the two transport costs of the batch."""
        rec = reconstruction_loss(out["word_logits"], target, cfg.loss, cfg.kl_direction, cfg.student_temperature)
        return cfg.weight * rec + out["transport"]

    @torch.no_grad()
    def prepare_inference(self, x: torch.Tensor) -> None:
        """Keep the topics' potential of the documents -> topics plan over the training documents ``x``."""
        self.dt_potential.copy_(self._doc_topic_plan(x)[2])

    @torch.no_grad()
    def theta(self, x: torch.Tensor, num_samples: int = 10, generator: torch.Generator | None = None,
              estimate: str = "samples") -> torch.Tensor:
        """Rows of the documents -> topics plan (deterministic: ``num_samples`` and ``estimate`` are unused)."""
        cost = squared_distances(self._documents(x), self.topic_embeddings)
        return torch.softmax(-self.dt_alpha * cost + self.dt_potential, dim=1)
