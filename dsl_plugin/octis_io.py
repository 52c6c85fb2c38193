"""Load an OCTIS dataset folder together with its raw documents, row-aligned."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from ._octis import require_octis

require_octis("dsl_plugin.load_dataset (dsl_plugin.octis_io)")

from octis.dataset.dataset import Dataset  # noqa: E402

from .data import RAW_DOCUMENTS_FILE, read_raw_documents  # noqa: E402
from .fileio import read_json_object  # noqa: E402

PARTITIONS = ("train", "val", "test")  # OCTIS orders the rows of a dataset this way
NO_RAW_TEXT_WARNING = (f"the OCTIS dataset has no raw text ({RAW_DOCUMENTS_FILE}); the model falls back to the "
                       "joined preprocessed tokens, which gives its language model or sentence embedder much less "
                       "to work with")


class RawTextDataset(Dataset):
    """An OCTIS ``Dataset`` that also holds the raw text of each document (row-aligned)."""

    def __init__(self, corpus=None, vocabulary=None, labels=None, metadata=None, raw_corpus=None):
        super().__init__(corpus=corpus, vocabulary=vocabulary, labels=labels, metadata=metadata)
        self._raw_corpus = raw_corpus

    def get_raw_corpus(self) -> list[str]:
        """Raw documents aligned with :meth:`get_corpus`; without them, the joined tokens, with a warning."""
        if self._raw_corpus is None:
            warnings.warn(NO_RAW_TEXT_WARNING, stacklevel=2)
            return [" ".join(d) for d in self.get_corpus()]
        return self._raw_corpus


def _read_corpus_rows(path: Path) -> list[list[str]]:
    """Rows of an OCTIS ``corpus.tsv`` (``tokens<TAB>partition[<TAB>label]``), checked line by line."""
    rows: list[list[str]] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            cols = line.split("\t")
            where = f"{path}, line {lineno}"
            if len(cols) == 1:
                raise ValueError(f"{where}: no TAB; an OCTIS row is '<space-separated tokens>\\t<train|val|test>"
                                 f"[\\t<label>]', got {line[:80]!r}")
            if len(cols) > 3:
                raise ValueError(f"{where}: {len(cols)} TAB-separated columns; expected 2 or 3 "
                                 "(tokens, partition[, label])")
            if cols[1] not in PARTITIONS:
                raise ValueError(f"{where}: unknown partition {cols[1]!r} (expected train, val or test)")
            if rows and len(cols) != len(rows[0]):
                raise ValueError(f"{where}: {len(cols)} columns, but line 1 has {len(rows[0])} (a label on some "
                                 "rows only)")
            rows.append(cols)
    return rows


def load_dataset(folder: str | os.PathLike) -> RawTextDataset:
    """Read a folder written by :func:`dsl_plugin.data.write_octis_folder` (or any OCTIS folder).

    Unlike OCTIS's ``load_custom_dataset_from_folder`` this keeps documents that are empty after
    preprocessing (OCTIS's pandas reader turns them into NaN and fails) and the raw text. Rows are put in
    OCTIS's order (train, val, test; file order within each), and the raw text is reordered with them.

    Raises:
        FileNotFoundError: if ``corpus.tsv`` is missing.
        ValueError: a malformed ``corpus.tsv`` row, ``metadata.json`` or ``raw_documents.jsonl`` line (file
            and line named), raw documents whose count or content does not match ``corpus.tsv``.

    Warns:
        UserWarning: when the folder has no ``raw_documents.jsonl`` (DSL will read the joined tokens).
    """
    folder = Path(folder)
    if not (folder / "corpus.tsv").exists():
        raise FileNotFoundError(f"{folder / 'corpus.tsv'} not found: not an OCTIS dataset folder")
    rows = _read_corpus_rows(folder / "corpus.tsv")
    order = sorted(range(len(rows)), key=lambda i: (PARTITIONS.index(rows[i][1]), i))
    rows = [rows[i] for i in order]
    corpus = [r[0].split() for r in rows]
    labels = [r[2] for r in rows] if rows and len(rows[0]) > 2 else None
    metadata = read_json_object(folder / "metadata.json") if (folder / "metadata.json").exists() else {}
    parts = [r[1] for r in rows]
    metadata["last-training-doc"] = parts.count("train")
    metadata["last-validation-doc"] = parts.count("train") + parts.count("val")
    vocab_file = folder / "vocabulary.txt"
    if vocab_file.exists():
        with open(vocab_file, encoding="utf-8") as f:
            vocabulary = [w.strip() for w in f if w.strip()]
    else:
        vocabulary = sorted({w for d in corpus for w in d})
    raw = None
    if (folder / RAW_DOCUMENTS_FILE).exists():
        all_raw = read_raw_documents(folder)
        if len(all_raw) != len(order):
            raise ValueError(f"{RAW_DOCUMENTS_FILE} has {len(all_raw)} rows but corpus.tsv has {len(order)}")
        raw = [all_raw[i] for i in order]
        _check_raw_matches_tokens(raw, corpus, folder / RAW_DOCUMENTS_FILE)
    else:
        warnings.warn(f"{folder} has no {RAW_DOCUMENTS_FILE}: DSL will give the language model the joined "
                      "preprocessed tokens instead of the raw text", stacklevel=2)
    ds = RawTextDataset(corpus=corpus, vocabulary=vocabulary, labels=labels, metadata=metadata, raw_corpus=raw)
    ds.dataset_path = str(folder)
    return ds


def _check_raw_matches_tokens(raw: list[str], corpus: list[list[str]], source: Path,
                              max_bad_fraction: float = 0.1) -> None:
    """Refuse raw text that is not row-aligned with the tokens (lengths alone do not show it).

    The tokens of a row come from its raw text, so nearly all of them occur in the lower-cased raw text of
    the same row, and few occur in another row's. Measured share of a row's tokens found in its raw text,
    for both tokenizers, on the demo corpus, 2,000 20NG posts, 4,000 StackOverflow titles and 4,000 tweets:
    1.0 for every row when aligned, 0.01-0.07 on average after shuffling the raw rows. A row is "bad" when
    fewer than half of its tokens occur; more than ``max_bad_fraction`` bad rows is an error (stemmed or
    lemmatised tokens, which mostly keep the word's start, stay far below that).
    """
    bad = [i for i, (text, tokens) in enumerate(zip(raw, corpus))
           if tokens and sum(t.lower() in text.lower() for t in tokens) < len(tokens) / 2]
    with_tokens = sum(1 for t in corpus if t)
    if with_tokens and len(bad) > max_bad_fraction * with_tokens:
        i = bad[0]
        raise ValueError(f"{source} is not aligned with corpus.tsv: in {len(bad)} of {with_tokens} rows fewer than "
                         f"half of the tokens occur in the raw text (first: row {i} in train/val/test order, "
                         f"tokens {corpus[i][:6]} vs raw text {raw[i][:80]!r})")


def raw_corpus(dataset) -> list[str]:
    """The raw documents of an OCTIS dataset, row-aligned with ``dataset.get_corpus()``.

    * a :class:`RawTextDataset` (:func:`load_dataset`): its raw text;
    * a dataset loaded by OCTIS's ``load_custom_dataset_from_folder`` from a folder with
      ``raw_documents.jsonl``: that file, put in OCTIS's row order (train, val, test) by reading the
      folder again with :func:`load_dataset`, whose corpus must equal the dataset's;
    * otherwise the joined tokens, with a warning.

    Raises:
        ValueError: when the raw text cannot be aligned with the dataset's rows.
    """
    corpus = [list(d) for d in dataset.get_corpus()]
    getter = getattr(dataset, "get_raw_corpus", None)
    folder = getattr(dataset, "dataset_path", None)
    if callable(getter):
        raw = list(getter())
    elif folder and (Path(folder) / RAW_DOCUMENTS_FILE).exists():
        aligned = load_dataset(folder)
        if aligned.get_corpus() != corpus:
            raise ValueError(f"{Path(folder) / RAW_DOCUMENTS_FILE} is not aligned with this dataset: corpus.tsv "
                             "read in OCTIS's order (train, val, test) has other rows than dataset.get_corpus()")
        raw = aligned.get_raw_corpus()
    else:
        warnings.warn(NO_RAW_TEXT_WARNING, stacklevel=3)
        raw = [" ".join(doc) for doc in corpus]
    if len(raw) != len(corpus):
        raise ValueError(f"raw documents ({len(raw)}) and OCTIS corpus ({len(corpus)}) are not aligned")
    return raw
