"""Load an OCTIS dataset folder together with its raw documents."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from octis.dataset.dataset import Dataset

from .data import RAW_DOCUMENTS_FILE, read_raw_documents


class RawTextDataset(Dataset):
    """An OCTIS ``Dataset`` that also holds the raw text of each document (row-aligned)."""

    def __init__(self, corpus=None, vocabulary=None, labels=None, metadata=None, raw_corpus=None):
        super().__init__(corpus=corpus, vocabulary=vocabulary, labels=labels, metadata=metadata)
        self._raw_corpus = raw_corpus

    def get_raw_corpus(self) -> list[str]:
        """Raw documents aligned with :meth:`get_corpus` (falls back to joined tokens if absent)."""
        if self._raw_corpus is None:
            return [" ".join(d) for d in self.get_corpus()]
        return self._raw_corpus


def load_dataset(folder: str | os.PathLike) -> RawTextDataset:
    """Read a folder written by :func:`dsl_plugin.data.write_octis_folder` (or any OCTIS folder).

    Unlike OCTIS's ``load_custom_dataset_from_folder`` this keeps documents that are empty after
    preprocessing (OCTIS's pandas reader turns them into NaN and fails) and the raw text.

    Raises:
        FileNotFoundError: if ``corpus.tsv`` is missing.
    """
    folder = Path(folder)
    if not (folder / "corpus.tsv").exists():
        raise FileNotFoundError(f"{folder / 'corpus.tsv'} not found: not an OCTIS dataset folder")
    rows = [line.rstrip("\n").split("\t") for line in open(folder / "corpus.tsv", encoding="utf-8") if line.strip("\n")]
    rank = {"train": 0, "val": 1, "test": 2}
    order = sorted(range(len(rows)), key=lambda i: (rank.get(rows[i][1], 0) if len(rows[i]) > 1 else 0, i))
    rows = [rows[i] for i in order]
    corpus = [r[0].split() for r in rows]
    labels = [r[2] for r in rows] if rows and all(len(r) > 2 for r in rows) else None
    metadata = json.loads((folder / "metadata.json").read_text()) if (folder / "metadata.json").exists() else {}
    parts = [r[1] if len(r) > 1 else "train" for r in rows]
    metadata["last-training-doc"] = parts.count("train")
    metadata["last-validation-doc"] = parts.count("train") + parts.count("val")
    vocab_file = folder / "vocabulary.txt"
    vocabulary = ([w.strip() for w in open(vocab_file, encoding="utf-8") if w.strip()] if vocab_file.exists()
                  else sorted({w for d in corpus for w in d}))
    raw = None
    if (folder / RAW_DOCUMENTS_FILE).exists():
        all_raw = read_raw_documents(folder)
        if len(all_raw) != len(order):
            raise ValueError(f"{RAW_DOCUMENTS_FILE} has {len(all_raw)} rows but corpus.tsv has {len(order)}")
        raw = [all_raw[i] for i in order]
    ds = RawTextDataset(corpus=corpus, vocabulary=vocabulary, labels=labels, metadata=metadata, raw_corpus=raw)
    ds.dataset_path = str(folder)
    return ds


def raw_corpus(dataset) -> list[str]:
    """The raw text of every document of an OCTIS dataset, whatever its class.

    ``dataset.get_raw_corpus()`` when it has one (:class:`RawTextDataset`), else ``raw_documents.jsonl`` next
    to ``dataset.dataset_path``, else the joined preprocessed tokens, with a warning (a plain OCTIS
    ``Dataset`` keeps no raw text).
    """
    getter = getattr(dataset, "get_raw_corpus", None)
    if callable(getter):
        return list(getter())
    folder = getattr(dataset, "dataset_path", None)
    if folder and (Path(folder) / RAW_DOCUMENTS_FILE).exists():
        return read_raw_documents(folder)
    warnings.warn("the OCTIS dataset has no raw text (raw_documents.jsonl); falling back to the joined "
                  "preprocessed tokens, which gives language models and sentence embedders much less to work "
                  "with", stacklevel=3)
    return [" ".join(doc) for doc in dataset.get_corpus()]
