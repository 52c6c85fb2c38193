"""Device-dependent choices of the teacher: the dtype for a device and the batch budgets on a GPU.

On CUDA the teacher runs in bfloat16 where the GPU has native bf16 (compute capability >= 8.0:
Ampere and later), else in float16; on CPU in float32 (bf16 is several times slower on CPUs without
AVX-512-BF16, and fp16 matmuls are not supported everywhere). The dtype is part of the cache identity
(:meth:`TeacherConfig.identity`), so it is never chosen silently: ``TeacherConfig.for_device(device)``
makes the choice explicit, and the runner refuses a half-precision dtype on CPU.

The batch budget (padded tokens per forward pass) on a GPU comes from its free memory and the LM's
shape (:func:`batch_token_budget`, a pure function); on CPU it is a fixed 4096 tokens, which keeps the
matmuls in cache and was measured best here (docs/performance.md).
"""

from __future__ import annotations

#: padded tokens per forward pass on CPU (docs/performance.md)
CPU_BATCH_TOKENS = 4096
#: documents per forward pass on CPU / on a GPU (the GPU needs wide batches to be busy)
CPU_BATCH_SIZE = 128
GPU_BATCH_SIZE = 1024
#: bounds of the GPU token budget
MIN_GPU_BATCH_TOKENS = 512
MAX_GPU_BATCH_TOKENS = 1 << 20

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def is_cuda(device) -> bool:
    return str(device).startswith("cuda")


def dtype_for_capability(capability: tuple[int, int] | None) -> str:
    """The teacher dtype for a CUDA compute capability (None: no GPU, i.e. CPU)."""
    if capability is None:
        return "float32"
    return "bfloat16" if tuple(capability) >= (8, 0) else "float16"


def dtype_for_device(device: str = "auto") -> str:
    """``"float32"`` on CPU; on CUDA ``"bfloat16"`` when the GPU has native bf16, else ``"float16"``."""
    from ._runner import resolve_device

    dev = resolve_device(device)
    if not is_cuda(dev):
        return "float32"
    import torch

    return dtype_for_capability(torch.cuda.get_device_capability(torch.device(dev)))


def check_dtype_for_device(dtype: str, device) -> None:
    """Refuse half precision on CPU (slow or unsupported there, and not what a CPU cache should hold)."""
    if dtype != "float32" and str(device).startswith("cpu"):
        raise ValueError(f"dtype={dtype!r} is meant for GPUs, but the teacher runs on {device!r}; use "
                         "dtype='float32' on CPU (TeacherConfig.for_device(device) picks the dtype for a device)")


def activation_bytes_per_token(hidden_size: int, intermediate_size: int, num_layers: int, num_heads: int,
                               num_kv_heads: int, head_dim: int, dtype_bytes: int, max_row_tokens: int,
                               keep_all_hidden: bool = False) -> int:
    """Upper estimate of the GPU memory one batch token needs during a teacher forward pass.

    Counts the key/value cache of every layer (kept when the shared prompt prefix is reused), the hidden
    states kept (all layers when a non-final ``hidden_layer`` is pooled, else two), the transients of
    one decoder layer (q/k/v/o-sized buffers and three MLP-width buffers), and one row of attention
    scores per head (the math-kernel fallback of SDPA materialises them; flash kernels do not).
    """
    kv = 2 * num_layers * num_kv_heads * head_dim
    kept = (num_layers + 1 if keep_all_hidden else 2) * hidden_size
    transient = 4 * max(hidden_size, num_heads * head_dim) + 3 * intermediate_size
    scores = num_heads * max_row_tokens
    return dtype_bytes * (kv + kept + transient + scores)


def batch_token_budget(free_bytes: int, bytes_per_token: int, fraction: float = 0.5) -> int:
    """Padded tokens per forward pass that fit in ``fraction`` of ``free_bytes`` (clamped to sane bounds)."""
    budget = int(fraction * free_bytes) // max(1, int(bytes_per_token))
    return max(MIN_GPU_BATCH_TOKENS, min(MAX_GPU_BATCH_TOKENS, budget))


def model_shape(hf_config) -> dict:
    """The sizes :func:`activation_bytes_per_token` needs, from a Hugging Face model config."""
    cfg = getattr(hf_config, "text_config", None) or hf_config
    hidden = int(cfg.hidden_size)
    heads = int(cfg.num_attention_heads)
    return {"hidden_size": hidden, "intermediate_size": int(getattr(cfg, "intermediate_size", None) or 4 * hidden),
            "num_layers": int(cfg.num_hidden_layers), "num_heads": heads,
            "num_kv_heads": int(getattr(cfg, "num_key_value_heads", None) or heads),
            "head_dim": int(getattr(cfg, "head_dim", None) or hidden // heads)}


def cuda_batch_tokens(model, dtype: str, max_row_tokens: int, keep_all_hidden: bool) -> int:
    """Token budget for ``model`` on its CUDA device, from the memory free now."""
    import torch

    device = next(model.parameters()).device
    free, _ = torch.cuda.mem_get_info(device)
    per_token = activation_bytes_per_token(**model_shape(model.config), dtype_bytes=DTYPE_BYTES[dtype],
                                           max_row_tokens=max_row_tokens, keep_all_hidden=keep_all_hidden)
    return batch_token_budget(free, per_token)
