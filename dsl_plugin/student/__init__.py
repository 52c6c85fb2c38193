"""The student: the topic-model network, its training targets and its training loop.

``_network``: the ProdLDA encoder/decoder and the DSL loss; ``_targets``: the targets (soft labels, calibration,
bag-of-words blend) as pure functions of arrays; ``_batches``: the sources the loops read rows from (in memory, or
computed per batch, e.g. streamed from the teacher cache); ``_training``: the optimisation and inference loops.
:class:`dsl_plugin.DSL` builds the targets from the teacher outputs and calls these.
"""

from ._batches import BatchSource, RowSource, TensorSource, column_mean, column_std, row_chunks
from ._network import _ACTIVATIONS, ProdLDANetwork, dsl_loss, prior_kl, reconstruction_loss
from ._targets import CALIBRATIONS, bow_targets, corpus_logit_mean, soft_targets
from ._training import TrainConfig, infer_theta, train_network

__all__ = ["BatchSource", "CALIBRATIONS", "ProdLDANetwork", "RowSource", "TensorSource", "TrainConfig", "bow_targets",
           "column_mean", "column_std", "corpus_logit_mean", "dsl_loss", "infer_theta", "prior_kl",
           "reconstruction_loss", "row_chunks", "soft_targets", "train_network"]
