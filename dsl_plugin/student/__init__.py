"""The student: the topic-model network, its training targets and its training loop.

``_network``: the ProdLDA encoder/decoder and the DSL loss; ``_targets``: the targets (soft labels, calibration,
bag-of-words blend) as pure functions of arrays; ``_training``: the optimisation and inference loops.
:class:`dsl_plugin.DSL` builds the targets from the teacher outputs and calls these.
"""

from ._network import _ACTIVATIONS, ProdLDANetwork, dsl_loss, prior_kl, reconstruction_loss
from ._targets import CALIBRATIONS, bow_targets, corpus_logit_mean, soft_targets
from ._training import TrainConfig, infer_theta, train_network

__all__ = ["CALIBRATIONS", "ProdLDANetwork", "TrainConfig", "bow_targets", "corpus_logit_mean", "dsl_loss",
           "infer_theta", "prior_kl", "reconstruction_loss", "soft_targets", "train_network"]
