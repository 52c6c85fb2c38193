"""The teacher's GPU path, tested on CPU: dtype per device, half precision refused on CPU (while cached
half-precision entries stay readable), the memory-based batch budget. ``python -m benchmarks.gpu`` (its
clean skip without CUDA, its CPU dry run): tests/test_benchmarks.py."""

from __future__ import annotations

import numpy as np
import pytest

from dsl_plugin.teacher import SoftLabelTeacher, TeacherConfig, dtype_for_device
from dsl_plugin.teacher import _gpu

def test_dtype_for_a_device():
    assert _gpu.dtype_for_capability(None) == "float32"
    assert _gpu.dtype_for_capability((7, 5)) == "float16"  # T4: no native bf16
    assert _gpu.dtype_for_capability((8, 0)) == "bfloat16"  # A100
    assert _gpu.dtype_for_capability((9, 0)) == "bfloat16"
    assert dtype_for_device("cpu") == "float32"
    config = TeacherConfig(max_doc_tokens=32)
    assert config.for_device("cpu") == config  # the CPU config (and its cache key) is unchanged
    assert TeacherConfig(dtype="bfloat16").for_device("cpu").dtype == "float32"


def test_half_precision_is_refused_on_cpu_but_its_cache_stays_readable(tmp_path):
    docs, vocab = ["a first document", "a second one"], ["first", "second"]
    teacher = SoftLabelTeacher(dtype="bfloat16", device="cpu", cache_dir=str(tmp_path), show_progress=False)
    with pytest.raises(ValueError, match="meant for GPUs"):
        teacher.compute(docs, vocab)
    assert teacher.lm is None  # refused before loading anything
    # an entry computed in bf16 on a GPU machine is read on CPU without the LM
    entry = teacher.cache_entry(docs, vocab)
    entry.write_shard(0, np.ones((2, 2), np.float32), np.zeros((2, 4), np.float32))
    out = teacher.compute(docs, vocab)
    assert out.n_computed == 0 and teacher.lm is None
    assert out.logits.shape == (2, 2)


def test_gpu_batch_budget_grows_with_free_memory_and_is_bounded():
    from transformers import LlamaConfig

    shape = _gpu.model_shape(LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                         num_attention_heads=9, num_key_value_heads=3))  # SmolLM2-135M's shape
    assert shape == {"hidden_size": 576, "intermediate_size": 1536, "num_layers": 30, "num_heads": 9,
                     "num_kv_heads": 3, "head_dim": 64}
    per_token = _gpu.activation_bytes_per_token(**shape, dtype_bytes=2, max_row_tokens=192)
    # bf16: KV 2*30*3*64 + kept 2*576 + transient 4*576 + 3*1536 + scores 9*192, times 2 bytes
    assert per_token == 2 * (11520 + 1152 + 2304 + 4608 + 1728)
    assert _gpu.activation_bytes_per_token(**shape, dtype_bytes=2, max_row_tokens=192, keep_all_hidden=True) > per_token
    budgets = [_gpu.batch_token_budget(gib * 2**30, per_token) for gib in (1, 8, 40)]
    assert budgets == sorted(budgets) and budgets[0] < budgets[1] < budgets[2]
    assert budgets[1] == int(0.5 * 8 * 2**30) // per_token  # half of the free memory
    assert _gpu.batch_token_budget(0, per_token) == _gpu.MIN_GPU_BATCH_TOKENS
    assert _gpu.batch_token_budget(1 << 50, per_token) == _gpu.MAX_GPU_BATCH_TOKENS


def test_cuda_budget_reads_the_free_memory(monkeypatch):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2))
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (4 * 2**30, 16 * 2**30))
    per_token = _gpu.activation_bytes_per_token(**_gpu.model_shape(model.config), dtype_bytes=2, max_row_tokens=100)
    assert _gpu.cuda_batch_tokens(model, "bfloat16", 100, False) == _gpu.batch_token_budget(4 * 2**30, per_token)


def test_cpu_batch_limits_are_the_measured_defaults_unless_given():
    assert SoftLabelTeacher(device="cpu").runner.batch_limits() == (_gpu.CPU_BATCH_TOKENS, _gpu.CPU_BATCH_SIZE)
    assert SoftLabelTeacher(device="cpu", max_batch_tokens=100, max_batch_size=3).runner.batch_limits() == (100, 3)
    with pytest.raises(ValueError, match="max_batch_tokens"):
        SoftLabelTeacher(max_batch_tokens=0)
