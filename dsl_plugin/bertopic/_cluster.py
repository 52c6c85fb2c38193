"""``DSLCluster``: let a fitted DSL model assign BERTopic's topics (argmax theta)."""

from __future__ import annotations

import numpy as np


class DSLCluster:
    """A BERTopic cluster model whose clusters are the topics of a fitted :class:`dsl_plugin.DSL`.

    BERTopic hands the cluster model the (reduced) document embeddings. With a
    :class:`DSLBackend` built by :meth:`DSLBackend.from_dsl` (raw hidden states, ``normalize=False``)
    and ``umap_model=BaseDimensionalityReduction()`` (no reduction), those embeddings are exactly
    the DSL student's input, so the cluster model can run the DSL encoder on them:
    ``labels_ = argmax theta`` and ``probabilities_ = theta`` (N x K). BERTopic then builds its
    c-TF-IDF, representations and visualisations over the DSL topics.

    Notes:
        * BERTopic renumbers topics by size; ``topic_model.topic_mapper_`` maps them back.
        * DSL topics that win no document (argmax) do not appear in BERTopic; there is no -1 topic.
        * ``fit_transform`` returns theta mapped onto BERTopic's topics (columns of empty DSL topics
          are dropped); ``transform`` returns only the predicted topic (BERTopic's API), use
          ``dsl.transform(docs)`` for full distributions of new documents.

    Args:
        dsl_model: a fitted DSL with ``input="lm"``.
        num_samples: posterior samples averaged for theta (default: the DSL's ``num_samples``).
    """

    def __init__(self, dsl_model, num_samples: int | None = None):
        self.dsl_model = dsl_model
        self.num_samples = num_samples

    def _theta(self, X) -> np.ndarray:
        import torch

        from ..training import infer_theta

        dsl = self.dsl_model
        if not hasattr(dsl, "network_"):
            raise RuntimeError("DSLCluster needs a fitted DSL model: call dsl.fit(docs) first")
        if getattr(dsl, "input", "lm") != "lm":
            raise ValueError("DSLCluster needs a DSL trained on LM hidden states (input='lm')")
        x = np.asarray(X, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != dsl.input_size_:
            raise ValueError(f"DSLCluster got inputs of shape {x.shape}, the DSL expects (N, {dsl.input_size_}): "
                             "use DSLBackend.from_dsl(dsl) and umap_model=BaseDimensionalityReduction()")
        norms = np.linalg.norm(x, axis=1)
        if len(x) > 1 and np.allclose(norms, 1.0, atol=1e-4):
            raise ValueError("DSLCluster got L2-normalised embeddings; the DSL reads raw hidden states: "
                             "use DSLBackend(..., normalize=False) (DSLBackend.from_dsl does)")
        gen = torch.Generator()
        gen.manual_seed(0 if dsl.seed is None else int(dsl.seed))
        dev = next(dsl.network_.parameters()).device
        n = int(self.num_samples or dsl.num_samples)
        return infer_theta(dsl.network_, torch.from_numpy(x).to(dev), n, gen)

    def fit(self, X, y=None) -> "DSLCluster":
        theta = self._theta(X)
        self.probabilities_ = theta
        self.labels_ = theta.argmax(axis=1).astype(int)
        return self

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X).labels_

    def predict(self, X) -> np.ndarray:
        return self._theta(X).argmax(axis=1).astype(int)
