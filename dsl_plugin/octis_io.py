"""Load an OCTIS dataset folder together with its raw documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._octis import require_octis

require_octis("dsl_plugin.load_dataset (dsl_plugin.octis_io)")

from octis.dataset.dataset import Dataset  # noqa: E402

from .data import RAW_DOCUMENTS_FILE, read_raw_documents  # noqa: E402


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
