"""Corpus preparation: raw text -> vocabulary, OCTIS dataset folder, aligned raw documents.

DSL feeds the *raw* text of each document to a language model, while OCTIS only stores
preprocessed tokens. :func:`prepare_corpus` therefore keeps both, row-aligned, and
:func:`write_octis_folder` writes an OCTIS folder plus ``raw_documents.jsonl`` (one JSON
object per row of ``corpus.tsv``, same order).

Documents that are empty after preprocessing are *kept* (with an empty token list), so that
row ``i`` of every output refers to input document ``i`` (after the partition reordering
recorded in ``PreparedCorpus.order``). Such documents still have raw text for the LM.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .fileio import atomic_write_text
from .validation import integer

RAW_DOCUMENTS_FILE = "raw_documents.jsonl"
_WORD_RE = re.compile(r"[a-z]+")


def tokenize(text: str, stopwords: frozenset[str] = ENGLISH_STOP_WORDS, min_length: int = 3) -> list[str]:
    """Lower-case alphabetic words of at least ``min_length`` letters, minus stop words."""
    return [w for w in _WORD_RE.findall(text.lower()) if len(w) >= min_length and w not in stopwords]


_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|[\r\n]+")
_PIECE_SPLIT_RE = re.compile(r"[-/_]+")


def tokenize_as_written(text: str, stopwords: frozenset[str] = ENGLISH_STOP_WORDS, min_length: int = 3) -> list[str]:
    """The word filter of the paper authors' preprocessing, approximated without spaCy.

    Their code (spaCy ``en_core_web_lg``) keeps a token only if it is alphabetic, longer than two
    letters, not a stop word, *written in lower case* and *not the first token of a sentence*; text is
    not lower-cased first. So ``"Magento: add a product"`` yields ``["add", "product"]`` where
    :func:`tokenize` gives ``["magento", "add", "product"]``. Here sentences end at ``.!?`` + space
    or a line break, tokens are whitespace-separated pieces with surrounding punctuation stripped and
    split at ``-``, ``/`` and ``_``; a piece with any non-letter (``asp.net``, ``utf8``) is dropped.
    """
    out: list[str] = []
    for sentence in _SENTENCE_RE.split(text):
        first = True
        for chunk in sentence.split():
            for piece in _PIECE_SPLIT_RE.split(chunk.strip(".,;:!?\"'()[]{}<>*`~#@$%^&+=|\\")):
                if not piece:
                    continue
                if not first and piece.isalpha() and piece.islower() and len(piece) >= min_length \
                        and piece not in stopwords:
                    out.append(piece)
                first = False
    return out


TOKENIZERS = {"default": tokenize, "as_written": tokenize_as_written}
_PREPROCESSING_INFO = {
    "default": ["lowercase", "alphabetic words", "length >= 3", "sklearn english stop words"],
    "as_written": ["words written in lower case only (no lower-casing)", "sentence-initial words dropped",
                   "alphabetic words", "length >= 3", "sklearn english stop words"],
}


def build_vocabulary(token_lists: Iterable[Sequence[str]], size: int = 2000) -> list[str]:
    """Top-``size`` words by corpus frequency; ties broken alphabetically (deterministic).

    Raises:
        ValueError: if ``size`` < 1 or the corpus has no token at all.
    """
    size = integer(1)("vocabulary_size", size)
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    if not counts:
        raise ValueError("no token survived preprocessing: every document is empty after tokenisation "
                         "and stop-word removal; cannot build a vocabulary")
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [w for w, _ in ranked[:size]]


@dataclass
class PreparedCorpus:
    """Row-aligned raw texts, vocabulary-filtered tokens, labels and partitions.

    Rows are ordered train, then validation, then test (OCTIS's convention); ``order[i]`` is the
    index in the caller's input of row ``i``.
    """

    raw_texts: list[str]
    tokens: list[list[str]]
    vocabulary: list[str]
    labels: list[str] | None
    partitions: list[str]
    order: np.ndarray = field(repr=False)
    tokenizer: str = "default"

    def __len__(self) -> int:
        return len(self.raw_texts)

    @property
    def n_empty(self) -> int:
        """Number of documents with no vocabulary word (kept, see module docstring)."""
        return sum(1 for t in self.tokens if not t)


def bag_of_words(token_lists: Iterable[Sequence[str]], vocabulary: Sequence[str]):
    """N x V sparse float32 count matrix in vocabulary order (words outside the vocabulary are ignored).

    ``token_lists`` is read once, in order (a list, or e.g. :class:`TokenizedTexts` that tokenises on the fly); the
    matrix is built in compact arrays (8 bytes per non-zero, 8 per document), so a large corpus needs no per-word
    Python objects.
    """
    from array import array

    from scipy.sparse import csr_matrix

    index = {w: i for i, w in enumerate(vocabulary)}
    indptr, indices, counts = array("q", [0]), array("i"), array("f")
    for doc in token_lists:
        row = Counter(j for j in map(index.get, doc) if j is not None)
        indices.extend(row.keys())
        counts.extend(row.values())
        indptr.append(len(indices))
    bow = csr_matrix((np.frombuffer(counts, np.float32), np.frombuffer(indices, np.int32),  # views: no copy
                      np.frombuffer(indptr, np.int64)), shape=(len(indptr) - 1, len(index)))
    bow.sort_indices()
    return bow


class TokenizedTexts(Sequence):
    """The token lists of ``texts``, made when read and not kept (:func:`tokenize` or a named tokenizer).

    What :func:`build_vocabulary` and :func:`bag_of_words` read, for a corpus whose token lists would not fit in
    memory (a million posts hold hundreds of millions of token objects); each pass tokenises again.
    """

    def __init__(self, texts: Sequence[str], tokenizer: str = "default"):
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {tokenizer!r}; choose one of {sorted(TOKENIZERS)}")
        self.texts, self.tokenize = texts, TOKENIZERS[tokenizer]

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.tokenize(t) for t in self.texts[i]]
        return self.tokenize(self.texts[i])

    def __iter__(self) -> Iterator[list[str]]:
        return (self.tokenize(t) for t in self.texts)


def check_vocabulary(vocabulary: Sequence[str]) -> list[str]:
    """A given vocabulary as a list. Raises ``ValueError`` if it is empty or has duplicate words."""
    vocab = list(vocabulary)
    if not vocab:
        raise ValueError("the given vocabulary is empty")
    if len(set(vocab)) != len(vocab):
        raise ValueError("the given vocabulary has duplicate words")
    return vocab


def _positional(values, what: str) -> list:
    """A plain list in positional order. pandas objects are read by position (``.tolist()``), never by
    index label; a DataFrame (iterating it gives its column names) or a single string is refused."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be a list of strings, got a single {type(values).__name__}; "
                        "wrap one document in a list: [text]")
    if hasattr(values, "columns") and hasattr(values, "iloc"):
        raise TypeError(f"{what} must be a list of strings, not a pandas DataFrame; pass one column, "
                        "e.g. df['text']")
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _by_position(values, what: str):
    """A pandas object read by position (:func:`_positional`); any other sequence as it is (a
    ``TokenizedTexts`` is not materialised)."""
    return _positional(values, what) if hasattr(values, "iloc") else values


def _check_token_lists(token_lists, documents: Sequence[str]) -> None:
    if token_lists is not None and len(token_lists) != len(documents):
        raise ValueError(f"token_lists length ({len(token_lists)}) does not match documents ({len(documents)})")


def as_documents(texts) -> list[str]:
    """Documents as a positional list of strings (list, tuple, numpy array, pandas Series...).

    Raises:
        TypeError: a single string, a DataFrame, or an element that is not a string (named by position).
    """
    docs = _positional(texts, "documents")
    bad = next((i for i, t in enumerate(docs) if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"documents must be strings; document {bad} is {type(docs[bad]).__name__}")
    return docs


def _check_same_index(texts, labels) -> None:
    """Two pandas objects with different indexes: the caller may expect alignment by label; refuse."""
    ti, li = getattr(texts, "index", None), getattr(labels, "index", None)
    if ti is not None and li is not None and hasattr(ti, "equals") and not ti.equals(li):
        raise ValueError("texts and labels are pandas objects with different indexes; they are paired by "
                         "position, not by index label: align them first (e.g. labels.loc[texts.index]) or "
                         "pass lists")


def _check_texts(texts: list[str], labels: list | None) -> None:
    if len(texts) == 0:
        raise ValueError("empty corpus: no documents were given")
    if labels is not None and len(labels) != len(texts):
        raise ValueError(f"labels length ({len(labels)}) does not match the number of documents ({len(texts)})")
    if all(not t.strip() for t in texts):
        raise ValueError("all documents are empty (only whitespace)")


def prepare_corpus(
    texts: Sequence[str],
    labels: Sequence | None = None,
    vocabulary_size: int = 2000,
    vocabulary: Sequence[str] | None = None,
    test_size: float = 0.0,
    val_size: float = 0.0,
    seed: int = 0,
    tokenizer: str = "default",
) -> PreparedCorpus:
    """Tokenise, build (or apply) the vocabulary and assign partitions.

    Args:
        texts: raw documents (list, tuple, numpy array or pandas Series; pandas input is read by position,
            its index is ignored).
        labels: optional labels, one per document (same rule; two pandas objects must share their index).
        vocabulary_size: |V| when ``vocabulary`` is None.
        vocabulary: use this vocabulary instead of building one.
        test_size, val_size: fractions of documents put in the test / validation partition
            (random, seeded); 0 puts every document in ``train``.
        seed: seed of the partition split.
        tokenizer: ``"default"`` (:func:`tokenize`: lower-cased alphabetic words) or ``"as_written"``
            (:func:`tokenize_as_written`: the paper authors' filter, which drops capitalised and
            sentence-initial words).

    Raises:
        ValueError: empty corpus, all documents empty, labels length mismatch, bad fractions,
            unknown tokenizer, pandas texts and labels with different indexes.
        TypeError: a single string, a DataFrame or a non-string document.
    """
    if labels is not None:
        _check_same_index(texts, labels)
        labels = _positional(labels, "labels")
    texts = as_documents(texts)
    _check_texts(texts, labels)
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {tokenizer!r}; choose one of {sorted(TOKENIZERS)}")
    if not (0 <= test_size < 1 and 0 <= val_size < 1 and test_size + val_size < 1):
        raise ValueError(f"test_size ({test_size}) and val_size ({val_size}) must be in [0, 1) and sum to < 1")
    all_tokens = [TOKENIZERS[tokenizer](t) for t in texts]
    if vocabulary is None:
        vocab = build_vocabulary(all_tokens, vocabulary_size)
    else:
        vocab = check_vocabulary(vocabulary)
    vocab_set = set(vocab)
    n = len(texts)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_test, n_val = int(round(test_size * n)), int(round(val_size * n))
    part = np.array(["train"] * n, dtype=object)
    part[perm[:n_test]] = "test"
    part[perm[n_test:n_test + n_val]] = "val"
    rank = {"train": 0, "val": 1, "test": 2}
    order = np.array(sorted(range(n), key=lambda i: (rank[part[i]], i)), dtype=np.int64)
    return PreparedCorpus(
        raw_texts=[texts[i] for i in order],
        tokens=[[w for w in all_tokens[i] if w in vocab_set] for i in order],
        vocabulary=vocab,
        labels=None if labels is None else [str(labels[i]) for i in order],
        partitions=[str(part[i]) for i in order],
        order=order,
        tokenizer=tokenizer,
    )


def write_octis_folder(corpus: PreparedCorpus, folder: str | os.PathLike) -> Path:
    """Write an OCTIS dataset folder plus ``raw_documents.jsonl`` aligned with ``corpus.tsv``.

    Returns:
        The folder path. Load it with :func:`dsl_plugin.octis_dataset.load_dataset` (keeps the raw
        text) or OCTIS's ``Dataset.load_custom_dataset_from_folder`` (tokens only).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # a TAB or line break inside a label would break the corpus.tsv row
    labels = None if corpus.labels is None else [re.sub(r"[\t\r\n]", " ", lab) for lab in corpus.labels]
    rows = []
    for i, toks in enumerate(corpus.tokens):
        cols = [" ".join(toks), corpus.partitions[i]]
        if labels is not None:
            cols.append(labels[i])
        rows.append("\t".join(cols))
    atomic_write_text(folder / "corpus.tsv", "\n".join(rows) + "\n")
    atomic_write_text(folder / "vocabulary.txt", "\n".join(corpus.vocabulary) + "\n")
    atomic_write_text(folder / RAW_DOCUMENTS_FILE,
                       "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in corpus.raw_texts))
    n_train = corpus.partitions.count("train")
    n_val = corpus.partitions.count("val")
    metadata = {
        "total_documents": len(corpus),
        "vocabulary_length": len(corpus.vocabulary),
        "last-training-doc": n_train,
        "last-validation-doc": n_train + n_val,
        "preprocessing-info": _PREPROCESSING_INFO[corpus.tokenizer]
        + [f"top {len(corpus.vocabulary)} words by frequency"],
        "empty-documents-kept": corpus.n_empty,
        "raw-documents": RAW_DOCUMENTS_FILE,
        "labels": sorted(set(labels)) if labels is not None else [],
    }
    atomic_write_text(folder / "metadata.json", json.dumps(metadata, indent=1))
    return folder


def read_raw_documents(folder: str | os.PathLike) -> list[str]:
    """Read ``raw_documents.jsonl`` from a folder written by :func:`write_octis_folder`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not a JSON object with a string ``"text"`` (file and line named).
    """
    path = Path(folder) / RAW_DOCUMENTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: this folder has no raw documents (write it with "
                                "dsl_plugin.data.write_octis_folder)")
    texts = []
    for lineno, row in json_lines(path):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise ValueError(f'{path}, line {lineno}: expected an object with a string "text", got '
                             f"{json.dumps(row)[:80]}")
        texts.append(row["text"])
    return texts


def json_lines(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of every non-blank line of a JSON-lines file.

    Raises:
        ValueError: a line that is not JSON (file and line named).
    """
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise ValueError(f"{path}, line {lineno}: not valid JSON ({e})") from None
            yield lineno, row


# --------------------------------------------------------------------------- named data sets and sampling
# The paper's data sets (20 Newsgroups, StackOverflow, TweetTopic) are read from the benchmarks' shared data
# folder by benchmarks/bench_data.py, not by this package; the package ships the demo corpus only.

def stratified_sample(labels: Sequence, n: int, seed: int = 0) -> np.ndarray:
    """Indices of a fixed stratified sample of ``n`` documents (proportional per label, sorted)."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(labels)), train_size=n, stratify=labels, random_state=seed)
    return np.sort(idx)


def sample_documents(texts: Sequence[str], labels: Sequence | None, n: int | None,
                     seed: int = 0) -> tuple[list[str], list | None]:
    """A fixed sample of ``n`` documents (all of them when ``n`` is None or not smaller than the corpus):
    stratified by label when there are labels (:func:`stratified_sample`), else uniform; in corpus order.

    Raises:
        ValueError: ``n`` < 1.
    """
    texts = list(texts)
    labels = None if labels is None else list(labels)
    if n is None:
        return texts, labels
    if n < 1:
        raise ValueError(f"sample must be a positive number of documents, got {n}")
    if n >= len(texts):
        return texts, labels
    idx = (stratified_sample(labels, n, seed) if labels is not None
           else np.sort(np.random.default_rng(seed).choice(len(texts), n, replace=False)))
    return [texts[i] for i in idx], None if labels is None else [labels[i] for i in idx]


def load_demo_corpus() -> tuple[list[str], list[str]]:
    """The small labelled demo corpus shipped with the package (240 docs, 6 labels)."""
    import csv

    path = Path(__file__).resolve().parent / "resources" / "demo_corpus.tsv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["text"] for r in rows], [r["label"] for r in rows]


#: the data sets :func:`load_texts` knows by name
DATASETS = {
    "demo": load_demo_corpus,
}


def load_texts(name: str, sample: int | None = None, sample_seed: int = 0,
               **kwargs) -> tuple[list[str], list[str]]:
    """Load a named data set (see ``DATASETS``) as (texts, labels).

    Args:
        name: one of ``DATASETS``.
        sample: if given, keep a fixed stratified sample of this many documents (:func:`sample_documents`).
        sample_seed: seed of that sample.
        **kwargs: passed to the data set's loader.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)} (the paper's data sets "
                         "are prepared by the repository's benchmarks: python -m benchmarks.bench_data NAME)")
    texts, labels = DATASETS[name](**kwargs)
    return sample_documents(texts, labels, sample, sample_seed)


def prepare_dataset(name: str, folder: str | os.PathLike, vocabulary_size: int = 2000, test_size: float = 0.0,
                    val_size: float = 0.0, seed: int = 0, tokenizer: str = "default",
                    **load_kwargs) -> PreparedCorpus:
    """Load a named data set and write it as an OCTIS folder with raw text, in one call."""
    texts, labels = load_texts(name, **load_kwargs)
    corpus = prepare_corpus(texts, labels, vocabulary_size=vocabulary_size, test_size=test_size,
                            val_size=val_size, seed=seed, tokenizer=tokenizer)
    write_octis_folder(corpus, folder)
    return corpus
