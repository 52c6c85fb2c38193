"""OCTIS is optional: the base classes DSL and the metrics derive from, and the error for OCTIS-only parts.

OCTIS 1.14 cannot be installed with its own dependencies on Python 3.11 (it pins scikit-learn==1.1.0,
which has no build for 3.11), so ``pip install dsl-plugin`` does not pull it in. Without OCTIS:

* ``DSL`` (``fit`` / ``transform`` / ``save`` / ``load``, and ``train_model`` on any object with OCTIS's
  dataset methods), the metric classes (``Purity``, ..., ``LLMRating``: their ``score`` reads a plain
  model-output dict) and the BERTopic adapter work; they derive from the small stand-ins below.
* the parts that run OCTIS code (``dsl_plugin.load_dataset`` / ``dsl_plugin.octis_io``, whose dataset
  class extends OCTIS's ``Dataset``) raise :class:`OctisNotInstalledError`, which names the command
  :data:`OCTIS_INSTALL_COMMAND`.
"""

from __future__ import annotations

#: the one command that installs OCTIS next to dsl-plugin (what OCTIS imports for datasets, metrics and
#: the Optimizer -- gensim, scikit-optimize, pandas, requests -- is already a dsl-plugin dependency)
OCTIS_INSTALL_COMMAND = "pip install --no-deps octis==1.14.0"


class OctisNotInstalledError(ModuleNotFoundError):
    """An OCTIS-only part of dsl_plugin was used and OCTIS is not installed."""


def _is_missing_octis(exc: ModuleNotFoundError) -> bool:
    return exc.name == "octis" or str(exc.name or "").startswith("octis.")


try:
    from octis.evaluation_metrics.metrics import AbstractMetric
    from octis.models.model import AbstractModel

    OCTIS_AVAILABLE = True
except ModuleNotFoundError as _exc:  # only a missing OCTIS; a broken OCTIS install keeps its own error
    if not _is_missing_octis(_exc):
        raise
    OCTIS_AVAILABLE = False

    class AbstractModel:  # noqa: D401 - the part of octis.models.model.AbstractModel that DSL uses
        """Stand-in for ``octis.models.model.AbstractModel`` when OCTIS is not installed."""

        def __init__(self):
            self.hyperparameters = dict()

        def set_hyperparameters(self, **kwargs):
            self.hyperparameters.update(kwargs)

    class AbstractMetric:
        """Stand-in for ``octis.evaluation_metrics.metrics.AbstractMetric`` when OCTIS is not installed."""

        def __init__(self):
            pass

        def score(self, model_output):
            raise NotImplementedError

        def get_params(self):
            return [a for a in dir(self) if not a.startswith("_") and a not in ("info", "score", "get_params")]


def require_octis(feature: str) -> None:
    """Raise :class:`OctisNotInstalledError` naming :data:`OCTIS_INSTALL_COMMAND` if OCTIS is missing."""
    if OCTIS_AVAILABLE:
        return
    raise OctisNotInstalledError(
        f"{feature} needs OCTIS, which is not installed. Install it with:\n\n    {OCTIS_INSTALL_COMMAND}\n\n"
        "(--no-deps: OCTIS 1.14 pins scikit-learn==1.1.0, which does not build on Python 3.11; dsl-plugin "
        "already installs what OCTIS imports.)", name="octis")
