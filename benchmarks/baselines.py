"""The baseline adapters now live in the package: :mod:`dsl_plugin.baselines` (one implementation, also used by
``dsl_plugin.compare`` / ``dsl-topic compare``). Kept so that ``from baselines import run_baseline`` in older
scripts keeps working."""

from dsl_plugin.baselines import *  # noqa: F401,F403
from dsl_plugin.baselines import ALL_BASELINES, MODELS, run_baseline  # noqa: F401
