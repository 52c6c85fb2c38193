"""The soft-label teacher: configuration, prompt encoding, forward runner and cache access.

``TeacherConfig`` says what is computed (and keys the cache); ``SoftLabelTeacher`` computes it,
cached. See :mod:`._teacher` for the pipeline. ``compute_on_ray`` runs the same computation on a Ray
cluster into the same cache (:mod:`._ray`); ``dtype_for_device`` / ``TeacherConfig.for_device`` pick
the dtype for a GPU (:mod:`._gpu`).
"""

from ._config import (CACHE_DTYPES, DEFAULT_INSTRUCTION, DEFAULT_PROMPT, DEFAULT_PROMPT_TEMPLATE, DEFAULT_TEMPERATURE,
                      POOLINGS, PROMPT_FORMATS, WORD_SCORINGS, TeacherConfig)
from ._gpu import dtype_for_device
from ._prompts import PromptEncoder, single_token_words, word_token_ids
from ._ray import compute_on_ray
from ._runner import LMRunner, resolve_device
from ._teacher import CachedTeacherOutputs, SoftLabelTeacher, TeacherOutputs, softmax_with_temperature

__all__ = ["CACHE_DTYPES", "CachedTeacherOutputs", "DEFAULT_INSTRUCTION", "DEFAULT_PROMPT", "DEFAULT_PROMPT_TEMPLATE",
           "DEFAULT_TEMPERATURE", "LMRunner", "POOLINGS", "PROMPT_FORMATS", "PromptEncoder", "SoftLabelTeacher",
           "TeacherConfig", "TeacherOutputs", "WORD_SCORINGS", "compute_on_ray", "dtype_for_device", "resolve_device",
           "single_token_words", "softmax_with_temperature", "word_token_ids"]
