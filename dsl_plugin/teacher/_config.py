"""``TeacherConfig``: every setting that changes the teacher's outputs, in one frozen object.

It is the single source of the teacher's defaults, of their validation and of the cache identity
(:meth:`TeacherConfig.identity`): ``SoftLabelTeacher``, ``DSL``, the BERTopic backend and the
benchmarks all build their teacher from one. Settings that only change *how fast* the same outputs
are computed (device, threads, batch sizes, prefix reuse, caching) live on ``SoftLabelTeacher``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..lm import DEFAULT_LM, model_identity

#: the task instruction of the default prompt (the paper authors' instructions/default.jinja)
DEFAULT_INSTRUCTION = "Generate a label that capture the overall theme of the document below."
#: the default prompt template: an ``{instruction}`` slot and a ``{document}`` slot (the authors'
#: document_topic_distribution.jinja frame)
DEFAULT_PROMPT_TEMPLATE = "{instruction}\n\nDocument: {document}\n\nTopic:"
#: the default prompt as the LM reads it (the template with the default instruction)
DEFAULT_PROMPT = DEFAULT_PROMPT_TEMPLATE.replace("{instruction}", DEFAULT_INSTRUCTION)
#: tau of the soft labels softmax(logits / tau) (the paper's value); the student side reads it from here
DEFAULT_TEMPERATURE = 3.0

WORD_SCORINGS = ("first_token", "full_word")
PROMPT_FORMATS = ("raw", "chat")
POOLINGS = ("last", "mean")
QUANTIZATIONS = (None, "int8")
DTYPES = ("float32", "bfloat16", "float16")
CACHE_DTYPES = ("float32", "float16")


@dataclass(frozen=True)
class TeacherConfig:
    """What the teacher computes (and so what its cache entries are keyed by).

    Args:
        model: packaged alias (see :data:`dsl_plugin.lm.PACKAGED_LMS`), local path or HF model id.
        revision: Hugging Face revision for hub ids.
        prompt_template: must contain ``{document}`` exactly once, and may contain ``{instruction}`` once (the
            default does: :data:`DEFAULT_PROMPT_TEMPLATE`); trailing whitespace is stripped.
        instruction: the task instruction put in the template's ``{instruction}`` slot (the authors keep
            instructions and the prompt frame in separate files, and vary the instruction in their
            prompt-sensitivity ablation). A template without the slot takes no instruction: then it must stay
            at its default. Only the prompt as filled in keys the cache, so ``prompt_template=DEFAULT_PROMPT``
            (the filled-in default, the only form before this setting existed) and the default pair share
            cache entries.
        prompt_format: ``"raw"`` (default: the filled template is tokenised as it is) or ``"chat"``
            (the filled template is the user turn of the tokenizer's chat template, followed by the
            generation prompt; for instruct models).
        max_doc_tokens: documents longer than this (in LM tokens) are truncated inside the document
            slot, so the instruction and the suffix always survive.
        word_scoring: ``"first_token"`` (the paper's mapping: a word's logit is its first sub-token's)
            or ``"full_word"`` (log P(all of the word's tokens | prompt); much slower, see FINDINGS).
        pooling: the student's input: ``"last"`` (hidden state of the last prompt token, the paper)
            or ``"mean"`` (mean over the prompt tokens after the instruction prefix shared by all
            documents, i.e. the document and the suffix).
        hidden_layer: which layer's hidden states are pooled (-1: the final, normalised layer; 0 is the
            embedding output, ``n`` the output of block ``n``), the authors' ``hidden_state_layer``.
        quantize: ``None`` or ``"int8"`` (dynamic int8 Linear layers: faster on CPU, other outputs).
        dtype: weights and activations: ``"float32"`` (default; the only one allowed on CPU),
            ``"bfloat16"`` or ``"float16"`` (GPU; see :meth:`for_device`). Outputs are always float32.
        cache_dtype: how the outputs are stored in the cache: ``"float32"`` (default) or ``"float16"`` (half
            the disk space and read traffic of a streamed fit; values rounded to ~3 significant digits, i.e.
            ~1e-2 on a logit of 20; must fit float16's range, |x| <= 65504). Readers convert to float32, so
            everything downstream computes in float32.
    """

    model: str = DEFAULT_LM
    revision: str | None = None
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    prompt_format: str = "raw"
    max_doc_tokens: int = 128
    word_scoring: str = "first_token"
    pooling: str = "last"
    hidden_layer: int = -1
    quantize: str | None = None
    dtype: str = "float32"
    cache_dtype: str = "float32"
    instruction: str = DEFAULT_INSTRUCTION

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model (language_model) must be a non-empty string, got {self.model!r}")
        if not isinstance(self.prompt_template, str) or self.prompt_template.count("{document}") != 1:
            raise ValueError(f"prompt_template must be a string containing '{{document}}' exactly once, "
                             f"got {self.prompt_template!r}")
        if self.prompt_template.count("{instruction}") > 1:
            raise ValueError(f"prompt_template must contain '{{instruction}}' at most once, got {self.prompt_template!r}")
        if not isinstance(self.instruction, str) or "{document}" in self.instruction:
            raise ValueError(f"instruction must be a string without '{{document}}', got {self.instruction!r}")
        if "{instruction}" not in self.prompt_template and self.instruction != DEFAULT_INSTRUCTION:
            raise ValueError(f"instruction is set ({self.instruction!r}) but prompt_template has no '{{instruction}}' "
                             f"slot to put it in: {self.prompt_template!r}")
        _check_int("max_doc_tokens", self.max_doc_tokens, 1)
        _check_int("hidden_layer", self.hidden_layer, None)
        for name, allowed in (("prompt_format", PROMPT_FORMATS), ("word_scoring", WORD_SCORINGS),
                              ("pooling", POOLINGS), ("quantize", QUANTIZATIONS), ("dtype", DTYPES),
                              ("cache_dtype", CACHE_DTYPES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)}, got {getattr(self, name)!r}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def defaults(cls) -> dict:
        """Field name -> default value."""
        return {f.name: f.default for f in dataclasses.fields(cls)}

    def replace(self, **changes) -> "TeacherConfig":
        """A copy with ``changes`` (validated)."""
        return dataclasses.replace(self, **changes)

    def for_device(self, device: str = "auto") -> "TeacherConfig":
        """A copy with the dtype for ``device``: float32 on CPU; on CUDA bfloat16 where the GPU has native
        bf16 (compute capability >= 8.0), else float16. The dtype is part of the cache identity, so GPU
        and CPU passes write different cache entries."""
        from ._gpu import dtype_for_device

        return self.replace(dtype=dtype_for_device(device))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def prompt(self) -> str:
        """The prompt template as the LM reads it: ``{instruction}`` filled in, ``{document}`` left."""
        return self.prompt_template.replace("{instruction}", self.instruction)

    def identity(self, vocabulary) -> dict:
        """Everything the cached outputs depend on, except the documents.

        Settings at their default are left out (except the original five), so the keys of caches
        written before a setting existed stay valid.
        """
        ident = {**model_identity(self.model, self.revision), "prompt": self.prompt,
                 "max_doc_tokens": self.max_doc_tokens, "vocabulary": list(vocabulary), "dtype": self.dtype}
        defaults = self.defaults()
        for name in ("quantize", "word_scoring", "prompt_format", "pooling", "hidden_layer", "cache_dtype"):
            value = getattr(self, name)
            if value != defaults[name]:
                ident[name] = value
        return ident


def _check_int(name: str, value, minimum: int | None) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{name} must be an integer{bound}, got {value!r}")
