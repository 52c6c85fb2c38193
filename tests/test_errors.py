"""Bad input gives a clear error (type and message checked)."""

from __future__ import annotations

import re

import logging

import numpy as np
import pytest

from dsl_plugin import DSL, load_dataset
from dsl_plugin.cache import CacheEntry
from dsl_plugin.data import prepare_corpus, read_raw_documents
from dsl_plugin.lm import ModelNotAvailableError, load_language_model

from conftest import FakeEmbedder

NO_LM = dict(input="embeddings", target="bow", embedding_model=FakeEmbedder(), num_epochs=2, verbose=False,
             device="cpu")  # DSL settings that never touch the LM


# --------------------------------------------------------------------------- corpus


def test_empty_corpus(make_teacher, tmp_path):
    with pytest.raises(ValueError, match="empty corpus"):
        prepare_corpus([])
    with pytest.raises(ValueError, match="empty corpus"):
        DSL(**NO_LM).fit([])
    with pytest.raises(ValueError, match="empty corpus"):
        make_teacher(cache_dir=tmp_path).compute([], ["music"])


def test_empty_octis_dataset():
    from octis.dataset.dataset import Dataset

    with pytest.raises(ValueError, match="empty corpus"):
        DSL(**NO_LM).train_model(Dataset(corpus=[], vocabulary=["music"]))


def test_all_documents_empty(make_teacher, tmp_path):
    with pytest.raises(ValueError, match="all documents are empty"):
        prepare_corpus(["", "   ", "\n\t"])
    with pytest.raises(ValueError, match="all documents are empty"):
        DSL(**NO_LM).fit(["", " "])
    with pytest.raises(ValueError, match="all documents are empty"):
        make_teacher(cache_dir=tmp_path).compute(["", "  "], ["music"])
    # non-blank documents that lose every token in preprocessing
    with pytest.raises(ValueError, match="no token survived preprocessing"):
        prepare_corpus(["it is what it is", "and so on, to be or not to be"])


def test_non_string_document():
    with pytest.raises(TypeError, match="document 1 is int"):
        prepare_corpus(["a document about music", 42])


def test_labels_length_mismatch():
    with pytest.raises(ValueError, match=r"labels length \(1\) does not match the number of documents \(2\)"):
        prepare_corpus(["music and songs", "rockets and planets"], labels=["music"])


def test_bad_partition_fractions():
    with pytest.raises(ValueError, match="test_size"):
        prepare_corpus(["music and songs", "rockets and planets"], test_size=0.6, val_size=0.5)


def test_too_few_documents_to_train():
    with pytest.raises(ValueError, match="at least 2 documents"):
        DSL(**NO_LM).fit(["music and songs"])


def test_embeddings_input_without_embedding_model_reads_the_packaged_minilm():
    """input="embeddings" (also what input="auto" resolves to for long token lists) with no embedding_model: the
    packaged MiniLM, as for "lm+embeddings" (0.5 and earlier refused it)."""
    from dsl_plugin.embeddings import PackagedMiniLM

    assert isinstance(DSL(**{**NO_LM, "embedding_model": None})._embedder(), PackagedMiniLM)


# --------------------------------------------------------------------------- vocabulary


@pytest.mark.parametrize("blank", ["", "   "])
def test_vocabulary_word_without_token(teacher_run, blank):
    teacher = teacher_run[0]
    with pytest.raises(ValueError, match=r"1 vocabulary word\(s\) map to no token of " + re.escape(repr(teacher.model))):
        teacher.vocabulary_token_ids(["music", blank, "space"])


def test_vocabulary_word_without_token_through_dsl(prepared, dsl_kwargs):
    with pytest.raises(ValueError, match="map to no token"):
        DSL(num_topics=2, **dsl_kwargs).fit(prepared.raw_texts[:4], vocabulary=["music", "   "])


def test_empty_or_duplicate_vocabulary(make_teacher, tmp_path):
    with pytest.raises(ValueError, match="vocabulary is empty"):
        prepare_corpus(["music and songs"], vocabulary=[])
    with pytest.raises(ValueError, match="empty vocabulary"):
        make_teacher(cache_dir=tmp_path).compute(["music and songs"], [])


# --------------------------------------------------------------------------- hyper-parameters


@pytest.mark.parametrize("k", [0, -3, np.int64(0)])
def test_num_topics_below_one(k):
    with pytest.raises(ValueError, match="num_topics must be an integer >= 1"):
        DSL(num_topics=k)


def test_num_topics_below_one_via_set_hyperparameters(dataset):
    model = DSL(num_topics=3, **NO_LM)
    with pytest.raises(ValueError, match="num_topics must be an integer >= 1"):
        model.set_hyperparameters(num_topics=0)
    assert model.num_topics == 3 and model.hyperparameters["num_topics"] == 3  # left unchanged
    with pytest.raises(ValueError, match="num_topics must be an integer >= 1"):
        model.train_model(dataset, {"num_topics": np.int64(0)})
    assert model.num_topics == 3


def test_invalid_choices_and_unknown_hyperparameters():
    with pytest.raises(ValueError, match="loss must be one of"):
        DSL(loss="mse")
    with pytest.raises(ValueError, match="kl_direction must be one of"):
        DSL(kl_direction="sideways")
    with pytest.raises(ValueError, match="word_scoring must be one of"):
        DSL(word_scoring="whole")
    full = DSL(word_scoring="full_word", device="cpu")
    assert full.teacher_config.word_scoring == "full_word"  # reaches the teacher (and its cache identity)
    full.set_hyperparameters(word_scoring="first_token")
    assert full.teacher_config.word_scoring == "first_token"  # a changed setting changes the teacher
    model = DSL(**NO_LM)
    with pytest.raises(ValueError, match="target must be one of"):
        model.set_hyperparameters(target="hard")
    assert model.target == "bow"
    with pytest.raises(ValueError, match=r"unknown DSL hyper-parameter\(s\): \['n_topics'\]"):
        model.set_hyperparameters(n_topics=3)


def test_bad_teacher_settings():
    from dsl_plugin.teacher import SoftLabelTeacher, softmax_with_temperature

    with pytest.raises(ValueError, match=r"\{document\}"):
        SoftLabelTeacher(prompt_template="no slot here")
    with pytest.raises(ValueError, match="max_doc_tokens must be an integer >= 1"):
        SoftLabelTeacher(max_doc_tokens=0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        softmax_with_temperature(np.zeros((2, 3)), 0.0)


# --------------------------------------------------------------------------- language model


MISSING_LMS = ["no-such-org/no-such-model-xyz", "/no/such/local/dir/model", "missing-model-file.gguf"]


@pytest.mark.parametrize("name", MISSING_LMS)
def test_language_model_not_available_offline(name):
    with pytest.raises(ModelNotAvailableError, match="cannot load language model") as info:
        load_language_model(name)
    assert name in str(info.value)
    assert "HF_HUB_OFFLINE=1" in str(info.value)


def test_language_model_not_available_through_dsl(prepared, tmp_path):
    model = DSL(num_topics=2, language_model="no-such-org/no-such-model-xyz", num_epochs=1, verbose=False,
                device="cpu", cache_dir=str(tmp_path))
    with pytest.raises(ModelNotAvailableError, match="no-such-org/no-such-model-xyz"):
        model.fit(prepared.raw_texts[:4], vocabulary_size=20)


# --------------------------------------------------------------------------- cache and files


def test_corrupt_cache_shard_is_detected(tmp_path, caplog):
    entry = CacheEntry(tmp_path, "key", n_documents=4, shard_size=2)
    for i in range(2):
        entry.write_shard(i, np.ones((2, 3), np.float32) * i, np.ones((2, 5), np.float32))
    assert entry.missing_shards() == []
    path = tmp_path / "key" / "shard_00001.hidden.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="dsl_plugin.cache"):
        assert entry.missing_shards() == [1]
    assert "shard 1" in caplog.text and "corrupt" in caplog.text
    assert not (tmp_path / "key" / "shard_00001.json").exists()  # invalidated until recomputed
    with pytest.raises(RuntimeError, match="shard 1 is missing"):
        entry.read("hidden")
    # (recomputation by the teacher: tests/test_teacher_cache.py::test_corrupt_shard_is_detected_logged_and_recomputed)


def test_missing_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="corpus.tsv not found"):
        load_dataset(empty)
    with pytest.raises(FileNotFoundError, match="config.json not found: not a saved DSL model"):
        DSL.load(empty)
    with pytest.raises(FileNotFoundError, match="raw_documents.jsonl not found"):
        read_raw_documents(empty)
    with pytest.raises(FileNotFoundError, match="corpus.tsv not found"):
        load_dataset(tmp_path / "does-not-exist")
