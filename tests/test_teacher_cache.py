"""The soft-label teacher against a plain LM forward pass, and its resumable, verified cache."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
import torch

from dsl_plugin.cache import CacheEntry, make_key
from dsl_plugin.teacher import SoftLabelTeacher

from conftest import MAX_DOC_TOKENS

# --------------------------------------------------------------------------- teacher vs plain LM


def _doc_indices_by_length(prepared):
    lengths = [len(t) for t in prepared.raw_texts]
    return int(np.argmin(lengths)), int(np.argmax(lengths))


def test_first_pass_computed_every_document(teacher_run, prepared):
    teacher, out, passes = teacher_run
    assert out.logits.shape == (len(prepared), len(prepared.vocabulary))
    assert out.hidden.shape == (len(prepared), teacher.lm.config.hidden_size)
    assert out.logits.dtype == out.hidden.dtype == np.float32
    assert np.isfinite(out.logits).all() and np.isfinite(out.hidden).all()
    assert out.n_computed == teacher.n_documents_computed == len(prepared)
    assert passes == teacher.n_forward_passes >= 1
    assert passes < len(prepared)  # documents were batched


def test_restricted_logits_and_hidden_match_plain_lm_forward(teacher_run, prepared):
    teacher, out, _ = teacher_run
    ids, _ = teacher.vocabulary_token_ids(prepared.vocabulary)
    lengths = [len(teacher.build_prompt_ids(d)) for d in prepared.raw_texts]
    i = int(np.argmin(lengths))  # the shortest prompt: it shared a (left-padded) batch with longer ones
    assert lengths[i] < np.median(lengths)
    prompt = teacher.build_prompt_ids(prepared.raw_texts[i])
    with torch.inference_mode():
        res = teacher.lm(torch.tensor([prompt]), output_hidden_states=True)
    full = res.logits[0, -1, torch.from_numpy(ids)].float().numpy()
    np.testing.assert_allclose(out.logits[i], full, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(out.hidden[i], res.hidden_states[-1][0, -1].float().numpy(), atol=1e-4, rtol=1e-4)


def test_batching_and_left_padding_match_batch_size_one(teacher_run, prepared, make_teacher):
    _, out, _ = teacher_run
    short, long_ = _doc_indices_by_length(prepared)
    mid = int(np.argsort([len(t) for t in prepared.raw_texts])[len(prepared) // 2])
    idx = [short, mid, long_]
    single = make_teacher(max_batch_size=1, use_cache=False)
    res = single.compute([prepared.raw_texts[i] for i in idx], prepared.vocabulary)
    assert single.n_forward_passes == 3  # really one document per forward pass
    np.testing.assert_allclose(res.logits, out.logits[idx], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(res.hidden, out.hidden[idx], atol=1e-4, rtol=1e-4)


def test_truncation_happens_inside_the_document_slot(teacher_run, prepared):
    teacher = teacher_run[0]
    tok = teacher.tokenizer
    long_doc = " ".join(prepared.raw_texts)  # thousands of tokens
    assert len(tok(long_doc, add_special_tokens=False)["input_ids"]) > 20 * MAX_DOC_TOKENS
    ids = teacher.build_prompt_ids(long_doc)
    text = tok.decode(ids, skip_special_tokens=True)
    assert text.startswith("Generate a label that capture the overall theme of the document below.")
    assert text.endswith("\n\nTopic:")
    assert prepared.raw_texts[0][:40] in text  # the document's beginning survives
    assert prepared.raw_texts[-1][-40:] not in text  # its end is cut
    empty_prompt = teacher.build_prompt_ids("")
    assert len(ids) <= len(empty_prompt) + MAX_DOC_TOKENS + 2
    # a short document is not truncated
    short = "A short note about the telescope."
    assert short in tok.decode(teacher.build_prompt_ids(short), skip_special_tokens=True)


def test_vocabulary_words_map_to_first_subtoken_and_collisions_are_reported(teacher_run, caplog):
    teacher = teacher_run[0]
    tok = teacher.tokenizer
    vocab = ["music", "telescope", "counter", "counterattacks", "bed", "bedtimes", "xylophonist"]
    with caplog.at_level(logging.WARNING, logger="dsl_plugin.teacher"):
        ids, collisions = teacher.vocabulary_token_ids(vocab)
    for w, i in zip(vocab, ids):
        pieces = tok(" " + w, add_special_tokens=False)["input_ids"]
        assert i == pieces[0]
        first = tok.decode([int(i)])
        assert first.startswith(" ") and w.startswith(first.strip()) and first.strip()
    assert len(tok(" xylophonist", add_special_tokens=False)["input_ids"]) > 1  # a real multi-token word
    assert sorted(map(sorted, collisions.values())) == [["bed", "bedtimes"], ["counter", "counterattacks"]]
    assert collisions[int(ids[2])] == ["counter", "counterattacks"]
    assert "share their first sub-token" in caplog.text
    _, none = teacher.vocabulary_token_ids(["music", "telescope"])
    assert none == {}


# --------------------------------------------------------------------------- cache behaviour


def test_second_compute_does_no_forward_pass(teacher_run, prepared, teacher_cache_dir, make_teacher):
    _, first, _ = teacher_run
    before = SoftLabelTeacher.total_forward_passes
    again = make_teacher(cache_dir=teacher_cache_dir)
    out = again.compute(prepared.raw_texts, prepared.vocabulary)
    assert again.n_forward_passes == 0
    assert again.n_documents_computed == 0 and out.n_computed == 0
    assert SoftLabelTeacher.total_forward_passes == before
    assert again.lm is None  # a fully cached call never loads the LM
    assert np.array_equal(out.logits, first.logits) and np.array_equal(out.hidden, first.hidden)
    assert out.cache_path == first.cache_path


def test_duplicate_documents_are_computed_once(teacher_run, prepared, make_teacher, tmp_path):
    _, ref, _ = teacher_run
    order = np.argsort([len(t) for t in prepared.raw_texts])[:3]  # three short documents: cheap
    a, b, c = (prepared.raw_texts[i] for i in order)
    t = make_teacher(cache_dir=tmp_path)
    out = t.compute([a, b, a, c, b], prepared.vocabulary)
    assert t.n_documents_computed == 3 and out.n_computed == 3
    assert np.array_equal(out.logits[0], out.logits[2]) and np.array_equal(out.hidden[1], out.hidden[4])
    np.testing.assert_allclose(out.logits[[0, 1, 3]], ref.logits[order], atol=1e-4, rtol=1e-4)
    manifest = json.loads(next(tmp_path.glob("*/manifest.json")).read_text())
    assert manifest["n_documents"] == 3


def test_full_word_scoring_matches_summed_token_log_probabilities(make_teacher):
    docs = ["How do I sort a dictionary by value in python?",
            "The hockey playoffs start next week and the Bruins look strong tonight."]
    vocab = ["python", "dictionary", "hockey", "playoffs", "azerbaijani", "sharepoint", "bruins", "sort"]
    t = make_teacher(use_cache=False, word_scoring="full_word", max_doc_tokens=32)
    out = t.compute(docs, vocab).logits
    multi, seqs = t.multi_token_words(vocab)
    assert len(multi) >= 2 and max(len(s) for s in seqs) >= 3  # the case being tested: 2- and 3+-token words
    tok, lm = t.tokenizer, t.lm
    ref = np.zeros_like(out)
    with torch.inference_mode():
        for d, doc in enumerate(docs):  # brute force: prompt + the word's tokens, one sequence per word
            prompt = t.build_prompt_ids(doc)
            for w, word in enumerate(vocab):
                seq = tok(" " + word, add_special_tokens=False)["input_ids"]
                lp = torch.log_softmax(lm(torch.tensor([prompt + seq])).logits[0].float(), -1)
                ref[d, w] = sum(lp[len(prompt) - 1 + j, s].item() for j, s in enumerate(seq))
    np.testing.assert_allclose(out, ref, atol=2e-4)
    # single-token words keep the first-token teacher's soft labels (scores differ by a per-document shift)
    first = make_teacher(use_cache=False, max_doc_tokens=32).compute(docs, vocab).logits
    single = np.setdiff1d(np.arange(len(vocab)), multi)
    diff = out[:, single] - first[:, single]
    np.testing.assert_allclose(diff - diff[:, :1], 0, atol=2e-4)
    first_t = make_teacher(use_cache=False, max_doc_tokens=32)
    assert make_key(t.identity(vocab), docs) != make_key(first_t.identity(vocab), docs)  # its own cache entry
    assert "word_scoring" not in first_t.identity(vocab)  # the default keeps existing cache keys
    with pytest.raises(ValueError, match="word_scoring must be one of"):
        make_teacher(use_cache=False, word_scoring="whole")


def test_cache_key_depends_on_vocabulary_documents_and_settings(make_teacher, tmp_path):
    docs = ["first document", "second document"]
    t = make_teacher(cache_dir=tmp_path)
    k = make_key(t.identity(["alpha", "beta"]), docs)
    assert make_key(t.identity(["alpha", "beta"]), docs) == k
    assert make_key(t.identity(["alpha", "gamma"]), docs) != k
    assert make_key(t.identity(["beta", "alpha"]), docs) != k  # column order matters
    assert make_key(t.identity(["alpha", "beta"]), docs[::-1]) != k
    assert make_key(t.identity(["alpha", "beta"]), ["first document second document"]) != k
    assert make_key(make_teacher(cache_dir=tmp_path, max_doc_tokens=7).identity(["alpha", "beta"]), docs) != k
    other_prompt = make_teacher(cache_dir=tmp_path, prompt_template="Text: {document}\nTheme:")
    assert make_key(other_prompt.identity(["alpha", "beta"]), docs) != k
    # what compute() uses
    assert t.cache_entry(docs, ["alpha", "beta"]).key == k
    assert t.cache_entry(docs, ["alpha", "gamma"]).path != t.cache_entry(docs, ["alpha", "beta"]).path


SMALL_SETTINGS = dict(max_doc_tokens=12, shard_size=2)


@pytest.fixture(scope="module")
def small_run(prepared, make_teacher, tmp_path_factory):
    """A fresh 6-document teacher pass in 3 shards of 2 (short prompts: cheap)."""
    docs = prepared.raw_texts[:6]
    vocab = prepared.vocabulary[:40]
    root = tmp_path_factory.mktemp("small_cache")
    t = make_teacher(cache_dir=root, **SMALL_SETTINGS)
    out = t.compute(docs, vocab)
    assert t.n_documents_computed == 6
    return docs, vocab, root, out


@pytest.fixture
def small_copy(small_run, tmp_path):
    """A private copy of the small cache, so each test can damage it."""
    docs, vocab, root, out = small_run
    dst = tmp_path / "cache"
    shutil.copytree(root, dst)
    (entry,) = [p for p in dst.iterdir() if p.is_dir()]
    return docs, vocab, dst, entry, out


def test_small_cache_layout(small_copy):
    docs, vocab, root, entry, out = small_copy
    names = sorted(p.name for p in entry.iterdir())
    assert names == ["manifest.json"] + [f"shard_0000{i}.{s}" for i in range(3)
                                         for s in ("hidden.npy", "json", "logits.npy")]
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["n_documents"] == 6 and manifest["shard_size"] == 2
    assert manifest["identity"]["vocabulary_size"] == len(vocab)
    assert not list(entry.glob("*.tmp*"))


def test_intact_cache_is_reused(small_copy, make_teacher):
    docs, vocab, root, entry, out = small_copy
    t = make_teacher(cache_dir=root, **SMALL_SETTINGS)
    res = t.compute(docs, vocab)
    assert t.n_forward_passes == 0 and t.lm is None
    assert np.array_equal(res.logits, out.logits) and np.array_equal(res.hidden, out.hidden)


def test_deleted_commit_record_resumes_only_that_shard(small_copy, make_teacher):
    docs, vocab, root, entry, out = small_copy
    (entry / "shard_00001.json").unlink()
    t = make_teacher(cache_dir=root, **SMALL_SETTINGS)
    before = SoftLabelTeacher.total_forward_passes
    res = t.compute(docs, vocab)
    assert t.n_documents_computed == 2 and res.n_computed == 2
    assert SoftLabelTeacher.total_forward_passes - before == t.n_forward_passes >= 1
    assert (entry / "shard_00001.json").exists()
    np.testing.assert_allclose(res.logits, out.logits, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(res.hidden, out.hidden, atol=1e-5, rtol=1e-5)


def test_interrupted_pass_resumes_where_it_stopped(small_run, make_teacher, tmp_path):
    docs, vocab, _, out = small_run
    t = make_teacher(cache_dir=tmp_path, **SMALL_SETTINGS)
    real_block = t.runner.compute_block
    calls = []

    def block_then_interrupt(*args, **kwargs):
        if calls:
            raise KeyboardInterrupt  # the user presses Ctrl-C during the second shard
        calls.append(1)
        return real_block(*args, **kwargs)

    t.runner.compute_block = block_then_interrupt
    with pytest.raises(KeyboardInterrupt):
        t.compute(docs, vocab)
    resumed = make_teacher(cache_dir=tmp_path, **SMALL_SETTINGS)
    res = resumed.compute(docs, vocab)
    assert resumed.n_documents_computed == 4  # shards 1 and 2 only
    np.testing.assert_allclose(res.logits, out.logits, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(res.hidden, out.hidden, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("damage", ["overwrite-logits-bytes", "truncate-hidden", "delete-logits"])
def test_corrupt_shard_is_detected_logged_and_recomputed(small_copy, make_teacher, caplog, damage):
    docs, vocab, root, entry, out = small_copy
    if damage == "overwrite-logits-bytes":
        path = entry / "shard_00002.logits.npy"
        raw = bytearray(path.read_bytes())
        raw[-16:] = b"\xff" * 16  # same size, different numbers
        path.write_bytes(bytes(raw))
    elif damage == "truncate-hidden":
        path = entry / "shard_00002.hidden.npy"
        path.write_bytes(path.read_bytes()[:100])
    else:
        (entry / "shard_00002.logits.npy").unlink()
    t = make_teacher(cache_dir=root, **SMALL_SETTINGS)
    with caplog.at_level(logging.WARNING, logger="dsl_plugin.cache"):
        res = t.compute(docs, vocab)
    assert "shard 2" in caplog.text and "corrupt" in caplog.text
    assert t.n_documents_computed == 2
    np.testing.assert_allclose(res.logits, out.logits, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(res.hidden, out.hidden, atol=1e-5, rtol=1e-5)
    entry_obj = CacheEntry(root, entry.name, 6)
    assert entry_obj.missing_shards() == []  # repaired on disk


def test_different_vocabulary_is_a_different_cache_entry(small_copy, make_teacher):
    docs, vocab, root, entry, out = small_copy
    t = make_teacher(cache_dir=root, max_doc_tokens=SMALL_SETTINGS["max_doc_tokens"], shard_size=6)
    res = t.compute(docs, vocab[:-1] + ["zebra"])
    assert t.n_documents_computed == 6
    assert res.cache_path != str(entry)
    # the shared words keep their logits (the LM input did not change)
    np.testing.assert_allclose(res.logits[:, :-1], out.logits[:, :-1], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(res.hidden, out.hidden, atol=1e-4, rtol=1e-4)


# --------------------------------------------------------------------------- CacheEntry without an LM


def test_cache_entry_round_trip_and_missing_shard(tmp_path):
    e = CacheEntry(tmp_path, "k", n_documents=5, shard_size=2)
    assert e.n_shards == 3 and e.shard_range(2) == (4, 5)
    assert e.missing_shards() == [0, 1, 2]
    rng = np.random.default_rng(0)
    lg, hd = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    for i in (0, 2):
        s, t = e.shard_range(i)
        e.write_shard(i, lg[s:t], hd[s:t])
    assert e.missing_shards() == [1]
    with pytest.raises(RuntimeError, match="shard 1 is missing"):
        e.read("logits")
    e.write_shard(1, lg[2:4], hd[2:4])
    assert np.array_equal(e.read("logits"), lg) and np.array_equal(e.read("hidden"), hd)
    with pytest.raises(ValueError, match="needs 2 rows"):
        e.write_shard(0, lg[:1], hd[:1])
    # an existing entry keeps its layout even if asked for another shard size
    assert CacheEntry(tmp_path, "k", n_documents=5, shard_size=4).shard_size == 2


def test_is_cached_tells_whether_compute_would_run_the_lm(tmp_path):
    from dsl_plugin.teacher import SoftLabelTeacher

    docs = ["The rocket reached orbit.", "A new recipe for bread.", "The rocket reached orbit."]
    vocab = ["rocket", "orbit", "bread", "recipe"]
    teacher = SoftLabelTeacher(max_doc_tokens=16, cache_dir=str(tmp_path), show_progress=False)
    assert not teacher.is_cached(docs, vocab)
    teacher.compute(docs, vocab)
    assert teacher.is_cached(docs, vocab)
    assert teacher.is_cached(docs[:2], vocab)  # same unique documents, same entry
    assert not teacher.is_cached(docs[:1], vocab)
