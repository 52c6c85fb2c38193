"""The student: the topic-model network, its training targets and its training loop.

``_network``: the ProdLDA encoder/decoder and the DSL loss; ``_backbones``: the backbones the target trains
(ProdLDA, ETM ``_etm``, ECRTM ``_ecrtm``, FASTopic ``_fastopic``; ``_sinkhorn``: their optimal transport) and their
common interface; ``_targets``: the targets (soft labels, calibration, bag-of-words blend) as pure functions of
arrays; ``_batches``: the sources the loops read rows from (in memory, or computed per batch, e.g. streamed from the
teacher cache); ``_training``: the optimisation and inference loops.
:class:`dsl_plugin.DSL` builds the targets from the teacher outputs and calls these.
"""

from ._backbones import (BACKBONES, DEFAULT_DIVERSITY_WEIGHTS, DEFAULT_WEIGHTS, DIVERSITY_BACKBONES,
                         WORD_VECTOR_BACKBONES, build_backbone, check_theta_temperature,
                         resolve_diversity_weight)
from ._batches import BatchSource, RowSource, TensorSource, column_mean, column_std, row_chunks
from ._ecrtm import ECRTMNetwork
from ._etm import ETMNetwork
from ._fastopic import FASTopicNetwork
from ._network import _ACTIVATIONS, ProdLDANetwork, dsl_loss, prior_kl, reconstruction_loss, topic_overlap
from ._targets import (CALIBRATIONS, NEIGHBOUR_BLOCK, NEIGHBOUR_SPACES, TARGET_SEARCH_BYTES, TARGET_SEARCH_COPIES,
                       bow_features, bow_targets, corpus_logit_mean, neighbour_block, neighbour_index,
                       neighbour_vectors, pooled_rows, soft_targets, target_geometry, target_geometry_rows, unit_rows)
from ._training import TrainConfig, infer_theta, train_network

__all__ = ["BACKBONES", "BatchSource", "bow_features", "bow_targets", "build_backbone", "CALIBRATIONS",
           "check_theta_temperature", "column_mean", "column_std", "corpus_logit_mean", "DEFAULT_DIVERSITY_WEIGHTS",
           "DEFAULT_WEIGHTS", "DIVERSITY_BACKBONES", "dsl_loss", "ECRTMNetwork", "ETMNetwork", "FASTopicNetwork",
           "infer_theta", "NEIGHBOUR_BLOCK", "NEIGHBOUR_SPACES", "neighbour_block", "neighbour_index",
           "neighbour_vectors", "pooled_rows", "prior_kl",
           "ProdLDANetwork", "reconstruction_loss", "resolve_diversity_weight", "row_chunks", "RowSource",
           "soft_targets", "TARGET_SEARCH_BYTES", "TARGET_SEARCH_COPIES", "target_geometry", "target_geometry_rows",
           "TensorSource", "topic_overlap", "train_network", "TrainConfig", "unit_rows", "WORD_VECTOR_BACKBONES"]
