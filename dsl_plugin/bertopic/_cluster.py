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

    Document-topic distributions (theta):

    * fitted documents: ``topic_model.fit_transform(docs)`` returns theta mapped onto BERTopic's
      topics as ``probs`` (also ``topic_model.probabilities_`` and the ``Probability`` column of
      ``get_document_info``), with or without ``calculate_probabilities``.
    * new documents: BERTopic 0.17.4's ``transform`` returns ``probs=None`` for every cluster model
      that is not HDBSCAN (it calls only ``predict``), so use :meth:`transform` of this object,
      ``topic_model.hdbscan_model.transform(topic_model, docs)``: the same topics as
      ``topic_model.transform(docs)`` and theta mapped like the fitted ``probs``; and
      :meth:`approximate_distribution` in place of BERTopic's ``approximate_distribution`` (which
      compares c-TF-IDF of token windows, not theta): the same rows normalised to sum 1.

    Notes:
        * BERTopic renumbers topics by size; ``topic_model.topic_mapper_`` maps them back.
        * DSL topics that win no document (argmax) do not appear in BERTopic; there is no -1 topic
          in training. Their theta columns are dropped, so mapped rows can sum to less than 1; a new
          document whose largest theta is such a topic gets topic -1 (as in BERTopic's ``transform``).
        * After ``BERTopic.save`` (safetensors) and ``BERTopic.load`` the cluster model is gone (BERTopic
          stores none); keep the DSL (``dsl.save``) and use ``dsl.transform(docs)``.

    Args:
        dsl_model: a fitted DSL whose student reads the LM state alone (``input="lm"``; the default ``"auto"``
            does so for short documents only).
        num_samples: posterior samples averaged for theta when the DSL's ``theta_estimate`` is ``"samples"``
            (default: the DSL's ``num_samples``). Theta is the DSL's own (:meth:`DSL.theta_from_hidden`).
    """

    def __init__(self, dsl_model, num_samples: int | None = None):
        self.dsl_model = dsl_model
        self.num_samples = num_samples

    def _theta(self, X) -> np.ndarray:
        dsl = self.dsl_model
        if not hasattr(dsl, "network_"):
            raise RuntimeError("DSLCluster needs a fitted DSL model: call dsl.fit(docs) first")
        if getattr(dsl, "input_", "lm") != "lm":
            raise ValueError(f"DSLCluster needs a DSL whose student reads the LM hidden states alone; this one reads "
                             f"{dsl.input_!r} (DSL's default input='auto' reads the MiniLM embedding for long "
                             "documents): fit it with input='lm'")
        x = np.asarray(X, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != dsl.input_size_:
            raise ValueError(f"DSLCluster got inputs of shape {x.shape}, the DSL expects (N, {dsl.input_size_}): "
                             "use DSLBackend.from_dsl(dsl) and umap_model=BaseDimensionalityReduction()")
        norms = np.linalg.norm(x, axis=1)
        if len(x) > 1 and np.allclose(norms, 1.0, atol=1e-4):
            raise ValueError("DSLCluster got L2-normalised embeddings; the DSL reads raw hidden states: "
                             "use DSLBackend(..., normalize=False) (DSLBackend.from_dsl does)")
        return dsl.theta_from_hidden(x, self.num_samples)

    def fit(self, X, y=None) -> "DSLCluster":
        theta = self._theta(X)
        self.probabilities_ = theta
        self.labels_ = theta.argmax(axis=1).astype(int)
        return self

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X).labels_

    def predict(self, X) -> np.ndarray:
        """argmax theta of the (reduced) embeddings ``X``; theta is kept as ``last_probabilities_``."""
        return self.predict_proba(X).argmax(axis=1).astype(int)

    def predict_proba(self, X) -> np.ndarray:
        """theta (N x K, the DSL's own topic ids) of the (reduced) embeddings ``X``."""
        self.last_probabilities_ = self._theta(X)
        return self.last_probabilities_

    # ------------------------------------------------------------------ theta in BERTopic's topics
    def _check_model(self, topic_model) -> None:
        if getattr(topic_model, "hdbscan_model", None) is not self:
            raise ValueError("this DSLCluster is not the hdbscan_model of the given BERTopic model")
        if getattr(topic_model, "topic_mapper_", None) is None:
            raise RuntimeError("the BERTopic model is not fitted yet")

    def transform(self, topic_model, documents, embeddings=None) -> tuple[list[int], np.ndarray]:
        """``topic_model.transform(documents)`` with theta as the probabilities.

        Returns (topics, probs): the topics ``topic_model.transform`` gives, and theta of the documents
        mapped onto BERTopic's current topics (N x number of topics, as ``fit_transform``'s probs;
        merged topics add up, dropped DSL topics are left out).

        Args:
            topic_model: the fitted BERTopic whose ``hdbscan_model`` is this object.
            documents: a document or a list of documents.
            embeddings: their embeddings, if already computed (else the topic model's embedding model).
        """
        self._check_model(topic_model)
        if isinstance(documents, str):
            documents = [documents]
        if embeddings is None:
            embeddings = topic_model._extract_embeddings(list(documents), method="document", verbose=False)
        theta = self.predict_proba(topic_model.umap_model.transform(embeddings))
        topics = [int(t) for t in topic_model._map_predictions(theta.argmax(axis=1).astype(int))]
        return topics, topic_model._map_probabilities(theta, original_topics=True)

    def approximate_distribution(self, topic_model, documents, embeddings=None) -> tuple[np.ndarray, None]:
        """Theta in place of ``topic_model.approximate_distribution(documents)``: (N x topics, None).

        Same layout as BERTopic's (one column per topic, no -1 column, rows sum to 1): the rows of
        :meth:`transform`'s probs, renormalised over the topics BERTopic has.
        """
        _, probs = self.transform(topic_model, documents, embeddings)
        sums = probs.sum(axis=1, keepdims=True)
        return np.where(sums > 0, probs / np.where(sums > 0, sums, 1.0), 0.0), None
