"""The teacher on Ray (``compute_on_ray``): it writes the very cache entry the single-process teacher
writes and reads, loses only unfinished shards when a worker fails, and a rerun finishes the rest.

The fast tests run a local Ray instance (2 CPUs, no dashboard) with a stub LM: a tiny, randomly
initialised (seeded) Llama and a word-level tokenizer, built in each worker by ``stub_teacher`` -- the
documented ``teacher_factory`` hook -- so no LM is loaded. The slow test compares the packaged LM on
Ray with the single-process pass.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest

from dsl_plugin.teacher import SoftLabelTeacher, TeacherConfig, compute_on_ray

STUB_CONFIG = TeacherConfig(model="stub-tiny-llama", max_doc_tokens=16)
SHARD = 8


@functools.lru_cache(maxsize=2)
def tiny_lm(words: tuple[str, ...]):
    """(tokenizer, model): a word-level tokenizer over the prompt's and ``words``' words and a 2-layer
    Llama with seeded random weights; identical in every process."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["[UNK]", "[BOS]", "[EOS]"]
    template = STUB_CONFIG.prompt.replace("{document}", " ")
    known = sorted(set(template.replace(":", " : ").replace(".", " . ").split()) | set(words))
    vocab = {w: i for i, w in enumerate(specials + [w for w in known if w not in specials])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(single="[BOS] $A", special_tokens=[("[BOS]", 1)])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      tie_word_embeddings=False)
    return tok, LlamaForCausalLM(cfg).eval()


def stub_teacher(config, device="cpu", num_threads=None, words=(), fail_on_shard=None, **kwargs):
    """``teacher_factory`` for the tests: a SoftLabelTeacher running the stub LM (optionally failing on a shard)."""
    cls = _FailingTeacher if fail_on_shard is not None else SoftLabelTeacher
    teacher = cls(config, device="cpu", num_threads=num_threads, show_progress=False, **kwargs)
    teacher.fail_on_shard = fail_on_shard
    teacher.runner.attach(*tiny_lm(tuple(words)))
    return teacher


class _FailingTeacher(SoftLabelTeacher):
    def write_shards(self, entry, shards, vocabulary, progress=None):
        shards = list(shards)
        if any(i == self.fail_on_shard for i, _ in shards):
            raise RuntimeError(f"simulated worker failure on shard {self.fail_on_shard}")
        return super().write_shards(entry, shards, vocabulary, progress)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance: 2 CPUs, no dashboard, every server on the loopback interface (Ray binds to the
    node IP, which is 127.0.0.1 when it does not look for a cluster-reachable address). Workers import
    this test module (the stub factory) and the dsl_plugin under test through PYTHONPATH."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read when ray is imported
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    if ray.is_initialized():
        pytest.skip("Ray is already initialised in this process")
    import dsl_plugin

    paths = [str(Path(__file__).parent), str(Path(dsl_plugin.__file__).parent.parent)]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths), "OMP_NUM_THREADS": "1"}})
    try:
        where = ray.get(ray.remote(num_cpus=0)(lambda: __import__("dsl_plugin").__file__).remote())
        assert where == dsl_plugin.__file__, f"Ray workers import {where}, the tests {dsl_plugin.__file__}"
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def corpus(prepared):
    docs = list(prepared.raw_texts[:40])
    return docs + docs[:5], list(prepared.vocabulary)  # 5 duplicates: 40 unique documents, 5 shards of 8


def _shard_files(path) -> list[str]:
    return sorted(p.name for p in Path(path).iterdir() if p.name.startswith("shard_"))


def test_ray_writes_the_cache_entry_of_the_single_process_teacher(local_ray, corpus, tmp_path):
    docs, vocab = corpus
    local = stub_teacher(STUB_CONFIG, words=vocab, cache_dir=str(tmp_path / "local"), shard_size=SHARD)
    expected = local.compute(docs, vocab)
    assert expected.n_computed == 40

    out = compute_on_ray(docs, vocab, STUB_CONFIG, num_workers=2, cache_dir=str(tmp_path / "ray"),
                         shard_size=SHARD, teacher_factory=stub_teacher, teacher_kwargs={"words": vocab},
                         show_progress=False)
    assert out.n_computed == 40  # each unique document once
    assert Path(out.cache_path).name == Path(expected.cache_path).name  # same content key
    assert _shard_files(out.cache_path) == _shard_files(expected.cache_path)  # same shard files
    assert out.logits.shape == expected.logits.shape and out.hidden.shape == expected.hidden.shape
    np.testing.assert_allclose(out.logits, expected.logits, rtol=0, atol=1e-6)
    np.testing.assert_allclose(out.hidden, expected.hidden, rtol=0, atol=1e-6)

    # the single-process teacher reads what the Ray workers wrote, without any LM pass
    reader = stub_teacher(STUB_CONFIG, words=vocab, cache_dir=str(tmp_path / "ray"), shard_size=SHARD)
    again = reader.compute(docs, vocab)
    assert again.n_computed == 0 and reader.n_forward_passes == 0
    np.testing.assert_array_equal(again.logits, out.logits)

    # nothing missing: a second Ray call computes nothing (and starts no actors)
    assert compute_on_ray(docs, vocab, STUB_CONFIG, cache_dir=str(tmp_path / "ray"), teacher_factory=stub_teacher,
                          teacher_kwargs={"words": vocab}, show_progress=False).n_computed == 0


def test_a_failed_worker_loses_only_its_shard_and_a_rerun_finishes(local_ray, corpus, tmp_path):
    docs, vocab = corpus
    cache = str(tmp_path / "cache")
    with pytest.raises(RuntimeError, match="running the same call again computes only"):
        compute_on_ray(docs, vocab, STUB_CONFIG, num_workers=1, cache_dir=cache, shard_size=SHARD,
                       teacher_factory=stub_teacher, teacher_kwargs={"words": vocab, "fail_on_shard": 2},
                       show_progress=False)
    entry = stub_teacher(STUB_CONFIG, words=vocab, cache_dir=cache, shard_size=SHARD).cache_entry(
        list(dict.fromkeys(docs)), vocab)
    missing = entry.missing_shards()
    assert 2 in missing  # the failing shard was not committed
    out = compute_on_ray(docs, vocab, STUB_CONFIG, num_workers=1, cache_dir=cache, shard_size=SHARD,
                         teacher_factory=stub_teacher, teacher_kwargs={"words": vocab}, show_progress=False)
    assert out.n_computed == sum(entry.shard_range(i)[1] - entry.shard_range(i)[0] for i in missing)
    reference = stub_teacher(STUB_CONFIG, words=vocab, use_cache=False).compute(docs, vocab)
    np.testing.assert_allclose(out.logits, reference.logits, rtol=0, atol=1e-5)


def test_inputs_are_validated_before_ray_starts(corpus):
    docs, vocab = corpus
    for bad_docs, bad_vocab, message in (([], vocab, "empty corpus"), (["  ", "\n"], vocab, "all documents are empty"),
                                         (docs, [], "empty vocabulary")):
        with pytest.raises(ValueError, match=message):
            compute_on_ray(bad_docs, bad_vocab, STUB_CONFIG, address="127.0.0.1:1")  # never contacted
    with pytest.raises(ValueError, match="num_workers"):
        compute_on_ray(docs, vocab, STUB_CONFIG, num_workers=0, address="127.0.0.1:1")


@pytest.mark.slow
def test_packaged_lm_on_two_ray_workers_matches_the_single_process_pass(local_ray, corpus, tmp_path):
    docs, vocab = corpus
    config = TeacherConfig(max_doc_tokens=16)  # the packaged default LM (smollm2-135m)
    local = SoftLabelTeacher(config, device="cpu", num_threads=1, cache_dir=str(tmp_path / "local"), shard_size=10,
                             show_progress=False).compute(docs, vocab)
    out = compute_on_ray(docs, vocab, config, num_workers=2, cache_dir=str(tmp_path / "ray"), shard_size=10,
                         show_progress=False)
    assert out.n_computed == 40 and Path(out.cache_path).name == Path(local.cache_path).name
    arrays = [n for n in _shard_files(local.cache_path) if n.endswith(".npy")]
    assert arrays == [n for n in _shard_files(out.cache_path) if n.endswith(".npy")] and len(arrays) == 8
    for name in arrays:  # every cached array, logits and hidden states of the 4 shards
        diff = np.abs(np.load(Path(out.cache_path) / name) - np.load(Path(local.cache_path) / name)).max()
        assert float(diff) <= 1e-5, name


def test_cli_teacher_fills_the_entry_that_fit_reads(dataset_folder, prepared, teacher_outputs, teacher_cache_dir,
                                                    capsys):
    """`dsl-topic teacher` (either engine) keys its entry like DSL's fit: the session's entry, already complete."""
    from conftest import MAX_DOC_TOKENS
    from dsl_plugin.cli import main

    for engine in ("local", "ray"):  # nothing is missing: the Ray engine returns before starting Ray
        main(["teacher", str(dataset_folder), "--engine", engine, "--cache-dir", str(teacher_cache_dir),
              "--max-doc-tokens", str(MAX_DOC_TOKENS)])
        printed = capsys.readouterr().out
        assert f"{len(prepared)} documents, 0 computed by the LM" in printed
        assert teacher_outputs.cache_path in printed


def test_cli_teacher_reads_what_dsls_default_reads(tmp_path, monkeypatch, capsys):
    """Without --max-doc-tokens, `dsl-topic teacher` keys its entry like DSL()'s fit on the folder: 256 tokens per
    document for a corpus of long documents, 128 otherwise (no LM runs here: the teacher is replaced)."""
    from dsl_plugin.cli import main
    from dsl_plugin.data import prepare_corpus, write_octis_folder
    from dsl_plugin.teacher import SoftLabelTeacher

    seen = []

    def compute(self, documents, vocabulary):
        seen.append(self.config)
        raise SystemExit(0)
    monkeypatch.setattr(SoftLabelTeacher, "compute", compute)
    words = ["alpha", "beta", "gamma", "delta"]
    for length, expected in ((40, 256), (3, 128)):
        texts = [" ".join(words[(i + j) % 4] for j in range(length)) for i in range(12)]
        folder = write_octis_folder(prepare_corpus(texts, ["a", "b"] * 6, vocabulary_size=10),
                                    tmp_path / f"len{length}")
        with pytest.raises(SystemExit):
            main(["teacher", str(folder), "--cache-dir", str(tmp_path / "cache")])
        assert seen[-1].max_doc_tokens == expected
    # the options `dsl-topic fit` takes key the entry as they key fit's: the paper preset reads 128 tokens
    with pytest.raises(SystemExit):
        main(["teacher", str(folder.parent / "len40"), "--preset", "paper", "--word-scoring", "full_word"])
    assert (seen[-1].max_doc_tokens, seen[-1].word_scoring) == (128, "full_word")
    with pytest.raises(SystemExit) as bad:  # refused before any LM pass, naming the setting
        main(["teacher", str(folder), "--max-doc-tokens", "0"])
    assert bad.value.code == 2 and "max_doc_tokens" in capsys.readouterr().err
