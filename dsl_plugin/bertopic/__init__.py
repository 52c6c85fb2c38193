"""BERTopic adapter of DSL: LM hidden states as embeddings, LM soft labels as topic words.

* :class:`DSLBackend` -- a BERTopic embedding backend (``BaseEmbedder``) returning the teacher
  prompt's last-token hidden states; the same forward pass gives the soft labels (shared cache).
* :class:`DSLRepresentation` -- a BERTopic representation model ranking each topic's words by the
  mean soft label of its documents (optionally mixed with c-TF-IDF).
* :class:`DSLCluster` -- a BERTopic cluster model that assigns topics with a fitted DSL model and gives
  its theta for fitted and new documents.

Needs the ``bertopic`` extra (``pip install "dsl-plugin[bertopic]"``). See docs/bertopic.md.
"""

from __future__ import annotations

from ._backend import DSLBackend
from ._cluster import DSLCluster
from ._representation import DSLRepresentation

__all__ = ["DSLBackend", "DSLCluster", "DSLRepresentation"]
