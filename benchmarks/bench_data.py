"""Benchmark data sets: the loaders of the paper's data sets (from the shared data folder) and one fixed
definition of every benchmark data set, shared by the run, teacher-pass, study and perf scripts.

    python -m benchmarks.bench_data stackoverflow-4k              # its OCTIS folder (benchmarks/work/...)
    python -m benchmarks.bench_data stackoverflow --out /shared/so  # elsewhere

The installed package ships only the demo corpus (:func:`dsl_plugin.data.load_demo_corpus`); the data sets
here are read from ``$DSL_SHARED_DATA`` or a ``shared/data`` folder above the working directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import os
from pathlib import Path

from dsl_plugin.data import (PreparedCorpus, load_texts as load_packaged, prepare_corpus, sample_documents,
                             stratified_sample, write_octis_folder)

from . import setup_environment, work_dir

# --------------------------------------------------------------------------- the shared data


def shared_data_dir() -> Path:
    """The shared benchmark data: ``$DSL_SHARED_DATA``, else the first ``shared/data`` folder (one holding
    ``DATA.md``) in the working directory, its parents, or next to them.

    Raises:
        FileNotFoundError: none found.
    """
    env = os.environ.get("DSL_SHARED_DATA")
    if env:
        return Path(env)
    for base in [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parent, *Path(__file__).resolve().parents]:
        for cand in (base / "shared" / "data", base.parent / "shared" / "data"):
            if (cand / "DATA.md").exists():
                return cand
    raise FileNotFoundError("shared benchmark data not found: set DSL_SHARED_DATA to the folder holding "
                            "20newsgroups/, stackoverflow/ and tweet_topic/")


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"data file {path} is missing (see DATA.md in the shared data folder)")
    return path


def load_20newsgroups(field: str = "text", sample: int | None = None, seed: int = 0,
                      drop_empty: bool = True, data_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """20 Newsgroups (bydate, 18,846 docs) from the shared data, as (texts, label names).

    Args:
        field: ``text`` (scikit-learn stripped headers/footers/quotes, the paper's field) or ``text_raw``.
        sample: if given, a fixed stratified sample of this many documents (seeded).
        drop_empty: drop the 515 documents whose ``text`` is empty (the LM would see an empty slot).
    """
    path = _need(Path(data_dir or shared_data_dir()) / "20newsgroups" / "20newsgroups_bydate.jsonl.gz")
    texts, labels = [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if drop_empty and not row[field].strip():
                continue
            texts.append(row[field])
            labels.append(row["label"])
    return sample_documents(texts, labels, sample, seed)


def load_stackoverflow(data_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """StackOverflow titles (20,000 docs, 20 tags) as (texts, tag names)."""
    import pandas as pd

    base = Path(data_dir or shared_data_dir()) / "stackoverflow"
    df = pd.read_csv(_need(base / "dsl-topic-models" / "stackoverflow.tsv"), sep="\t", keep_default_na=False)
    names = json.loads(_need(base / "label_names.json").read_text())
    return df["text"].astype(str).tolist(), [names[str(int(x))] if isinstance(names, dict) else names[int(x) - 1]
                                              for x in df["label"]]


def load_tweet_topic(unique: bool = False, data_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """TweetTopic single-label subset (21,996 rows; ``unique=True``: 5,790 de-duplicated rows)."""
    import pandas as pd

    base = Path(data_dir or shared_data_dir()) / "tweet_topic"
    name = "tweet_topic_unique.tsv" if unique else "tweet_topic.tsv"
    df = pd.read_csv(_need(base / name), sep="\t", keep_default_na=False, quoting=3)
    return df["text"].astype(str).str.rstrip("\r").tolist(), df["label_name"].astype(str).str.rstrip("\r").tolist()


#: WordNet's noun lexicographer files by number (lexnames(5WN)): the label of each noun synset
WORDNET_NOUN_FILES = ("Tops act animal artifact attribute body cognition communication event feeling food group "
                      "location motive object person phenomenon plant possession process quantity relation shape "
                      "state substance time").split()


def wordnet_dir() -> Path:
    """WordNet 3.0's database files: ``$DSL_WORDNET_DIR``, else Debian's package ``wordnet-base``
    (``/usr/share/wordnet``)."""
    return Path(os.environ.get("DSL_WORDNET_DIR", "/usr/share/wordnet"))


def load_wordnet_nouns(data_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """WordNet 3.0's noun glosses (82,099 of its 82,115 synsets; 16 have examples only) as (definitions, the
    synset's lexicographer file: ``animal``, ``food``, ``location``, ... 26 labels): short English definitions
    labelled by semantic field. The example sentences of a gloss (quoted) are dropped. Read from ``data.noun``
    (``apt-get install wordnet-base``, or ``$DSL_WORDNET_DIR``); not in the shared data folder."""
    path = Path(data_dir or wordnet_dir()) / "data.noun"
    if not path.exists():
        raise FileNotFoundError(f"WordNet's {path} is missing: install Debian's wordnet-base (`apt-get install "
                                "wordnet-base`) or set DSL_WORDNET_DIR to a folder holding WordNet 3.0's data.noun")
    texts, labels = [], []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):  # the license header
                continue
            head, _, gloss = line.partition("| ")
            definition = "; ".join(p.strip() for p in gloss.split(";") if p.strip() and '"' not in p)
            if definition:  # (16 glosses are examples only)
                texts.append(definition)
                labels.append(WORDNET_NOUN_FILES[int(head.split()[1]) - 3])
    return texts, labels


def debian_lists_dir() -> Path:
    """Debian's package lists: ``$DSL_DEBIAN_LISTS``, else apt's ``/var/lib/apt/lists`` (the English descriptions are
    there after ``apt-get update -o Acquire::Languages=en``)."""
    return Path(os.environ.get("DSL_DEBIAN_LISTS", "/var/lib/apt/lists"))


#: the sections of Debian packages that say what a package is about (its field or language), the labels of
#: :func:`load_debian_descriptions`. Chosen (2026-12-05, before any run on the set) on bookworm main's lists: every
#: section in which at least 40 source packages have a first binary package (by name, whatever its section) whose
#: long description holds DEBIAN_MIN_WORDS words or more; left out of those: the sections that say what kind of file
#: a package holds (libs, libdevel, doc, introspection) or nothing (misc). Just below the 40: tex (39), otherosfs
#: (33), comm and httpd (29). (The loader then keeps, per source, the first package in one of these sections that is long enough, so
#: its counts per section differ a little from these.)
DEBIAN_SECTIONS = ("admin", "database", "devel", "editors", "electronics", "fonts", "games", "gnome", "gnu-r", "golang",
                   "graphics", "hamradio", "haskell", "interpreters", "java", "javascript", "kde", "lisp", "mail",
                   "math", "net", "ocaml", "perl", "php", "python", "ruby", "science", "sound", "text", "utils",
                   "vcs", "video", "web", "x11")
#: a description is kept when its long part (after the one-line synopsis) holds at least this many words (debian-4k's
#: documents then hold about 47 vocabulary words each: long raw text, from LONG_DOCUMENT_WORDS = 32)
DEBIAN_MIN_WORDS = 60
#: sha256 of the two lists (decompressed) the benchmark set was built from on 2026-12-05: Debian 12.15 "bookworm" main,
#: amd64 (released 2026-07-11); :func:`load_debian_descriptions` refuses other lists (a later point release would give
#: another set under the same name) unless DEBIAN_ANY_LISTS_ENV is set
DEBIAN_LISTS_SHA256 = {"Packages": "515e692f2c4121c6fcec444ef100cc18f79a991910615f3a88c8b7becfc94d2f",
                       "Translation-en": "62f59c3cdca9786e4f7adf9002f9f5729a684adcb4667e58e448dec9b5a46c7f"}
DEBIAN_ANY_LISTS_ENV = "DSL_DEBIAN_ANY_LISTS"
#: the lists' names: apt's (``<mirror>_debian_dists_bookworm_main_<name>``) or a mirror's own (``<name>``), each
#: with or without a compression extension
_DEBIAN_LISTS = {"Packages": "binary-amd64_Packages", "Translation-en": "i18n_Translation-en"}
_STDLIB_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma", ".lzma": "lzma"}
_APT_COMPRESSION = (".lz4", ".zst")  # read by apt's own helper (no reader in the standard library)
APT_HELPER = "/usr/lib/apt/apt-helper"


def _debian_list(folder: Path, name: str) -> tuple[str, str]:
    """The text of the list ``name`` (a key of ``_DEBIAN_LISTS``) in ``folder``, decompressed, and its sha256."""
    import hashlib
    import importlib
    import subprocess

    extensions = ("", *_STDLIB_COMPRESSION, *_APT_COMPRESSION)
    stems = (f"_debian_dists_bookworm_main_{_DEBIAN_LISTS[name]}", name)
    found = sorted({p for p in folder.glob("*") for stem in stems for ext in extensions
                    if p.name.endswith(stem + ext) and (p.name == stem + ext or stem != name)})
    if len(found) != 1:
        raise FileNotFoundError(
            f"expected one Debian 12 (bookworm) main {name} list in {folder}, found {len(found)} "
            f"({[f.name for f in found]}): run `apt-get update -o Acquire::Languages=en` on a Debian 12 machine, or "
            f"set DSL_DEBIAN_LISTS to a folder holding those two lists ({', '.join(_DEBIAN_LISTS)}, compressed or not)")
    path = found[0]
    if path.suffix in _STDLIB_COMPRESSION:
        data = importlib.import_module(_STDLIB_COMPRESSION[path.suffix]).decompress(path.read_bytes())
    elif path.suffix in _APT_COMPRESSION:
        if not Path(APT_HELPER).exists():
            raise FileNotFoundError(f"{path} is {path.suffix}-compressed, which only apt's {APT_HELPER} reads here; "
                                    "decompress it first (or use a machine with apt)")
        done = subprocess.run([APT_HELPER, "cat-file", str(path)], capture_output=True)
        if done.returncode:
            raise OSError(f"{APT_HELPER} cat-file {path} failed: {done.stderr.decode(errors='replace').strip()}")
        data = done.stdout
    else:
        data = path.read_bytes()
    return data.decode("utf-8"), hashlib.sha256(data).hexdigest()


def _deb822(text: str):
    """The records of a Debian control-style list (deb822) as dicts, continuation lines joined by newlines."""
    for block in text.split("\n\n"):
        record, key = {}, None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                record[key] += "\n" + line[1:]
            elif ":" in line:
                key, _, value = line.partition(":")
                record[key] = value.strip()
        if record:
            yield record


def load_debian_descriptions(data_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """The English descriptions of Debian 12's packages (main, amd64) as (texts, section), in package-name order:
    per source package, the first of its binary packages (by name) that is in a section of ``DEBIAN_SECTIONS`` and
    whose long description (paragraph marks dropped) holds at least ``DEBIAN_MIN_WORDS`` words (the binaries of one
    source share most of their text), as its synopsis, ". " and that long part. Long raw text of another source than
    the shared data (software, not news), labelled by Debian's section (a field such as ``science`` or ``sound``, or a
    language such as ``perl``). Read from apt's lists (:func:`debian_lists_dir`); not in the shared data folder.

    Raises:
        FileNotFoundError: a list is missing (the message says how to get it).
        ValueError: the lists are not those the benchmark set was built from (``DEBIAN_LISTS_SHA256``), unless the
            environment variable ``DEBIAN_ANY_LISTS_ENV`` is set (then the documents differ from the recorded runs').
    """
    folder = Path(data_dir or debian_lists_dir())
    (packages, packages_sha), (english, english_sha) = (_debian_list(folder, n) for n in _DEBIAN_LISTS)
    if (packages_sha, english_sha) != tuple(DEBIAN_LISTS_SHA256.values()) and not os.environ.get(DEBIAN_ANY_LISTS_ENV):
        raise ValueError(f"the Debian lists in {folder} are not those the benchmark set was built from (sha256 "
                         f"{packages_sha[:12]} / {english_sha[:12]}, expected {DEBIAN_LISTS_SHA256}): its documents "
                         f"would differ from the recorded runs'; set {DEBIAN_ANY_LISTS_ENV}=1 to read them anyway")
    descriptions = {(r["Package"], r["Description-md5"]): r["Description-en"] for r in _deb822(english)
                    if {"Package", "Description-en", "Description-md5"} <= set(r)}
    sections = set(DEBIAN_SECTIONS)
    texts, labels, sources = [], [], set()
    for record in sorted(_deb822(packages), key=lambda r: r.get("Package", "")):
        section = record.get("Section", "").rpartition("/")[2]
        text = descriptions.get((record.get("Package"), record.get("Description-md5")))
        if text is None or section not in sections:
            continue
        source = (record.get("Source") or record["Package"]).split()[0]
        synopsis, _, body = text.partition("\n")
        body = " ".join(line.strip() for line in body.splitlines() if line.strip() not in ("", "."))
        if source not in sources and len(body.split()) >= DEBIAN_MIN_WORDS:
            sources.add(source)
            texts.append(f"{synopsis.strip()}. {body}")  # (a synopsis that ends in "." gets two: the set is fixed)
            labels.append(section)
    return texts, labels


#: the sources of the benchmark data sets, by name (besides the package's own: the demo corpus)
LOADERS = {
    "wordnet_nouns": load_wordnet_nouns,
    "debian_descriptions": load_debian_descriptions,
    "20newsgroups": load_20newsgroups,
    "stackoverflow": load_stackoverflow,
    "tweet_topic": load_tweet_topic,
    "tweet_topic_unique": lambda **kw: load_tweet_topic(unique=True, **kw),
}


def load_texts(name: str, sample: int | None = None, sample_seed: int = 0, disjoint_from: tuple[int, int] | None = None,
               **kwargs) -> tuple[list[str], list[str]]:
    """A source by name (``LOADERS``, or a data set of the package: ``demo``) as (texts, labels), optionally a
    fixed stratified sample of ``sample`` documents (:func:`dsl_plugin.data.sample_documents`). ``disjoint_from``:
    (size, seed) of another such sample of the source, whose documents are left out before sampling (a second
    sample that shares no document with the first)."""
    if name not in LOADERS:
        return load_packaged(name, sample=sample, sample_seed=sample_seed, **kwargs)
    texts, labels = LOADERS[name](**kwargs)
    if disjoint_from is not None:
        if labels is None:
            raise ValueError(f"disjoint_from needs a labelled source (the samples are stratified); {name} has none")
        taken = set(stratified_sample(labels, *disjoint_from).tolist())
        texts, labels = ([x for i, x in enumerate(xs) if i not in taken] for xs in (texts, labels))
    return sample_documents(texts, labels, sample, sample_seed)


# --------------------------------------------------------------------------- the benchmark data sets

# name -> (source name, load_texts kwargs, description shown in result tables).
# The default protocol (run.DEFAULT_DATASETS) uses a fixed stratified sample of 4,000 documents of each data set
# so that 14 models x K {25, 50} x 3 seeds finish in a few hours on 2 cores; the full-size sets are opt-in.
DATASETS = {
    "20newsgroups": ("20newsgroups", {"sample": 4000, "sample_seed": 0},
                     "20 Newsgroups `text` field, fixed stratified sample of 4,000 non-empty docs (seed 0)"),
    "stackoverflow-4k": ("stackoverflow", {"sample": 4000, "sample_seed": 0},
                         "StackOverflow titles, fixed stratified sample of 4,000 of the 20,000 (seed 0)"),
    "tweet_topic-4k": ("tweet_topic", {"sample": 4000, "sample_seed": 0},
                       "TweetTopic single-label rows (the authors' file, duplicates kept), fixed stratified sample "
                       "of 4,000 of the 21,996 rows (seed 0)"),
    # small sample for teacher-side experiments that are too slow at 4,000 (e.g. full-word scoring)
    "stackoverflow-1k": ("stackoverflow", {"sample": 1000, "sample_seed": 0},
                         "StackOverflow titles, fixed stratified sample of 1,000 of the 20,000 (seed 0)"),
    "20newsgroups-full": ("20newsgroups", {}, "20 Newsgroups `text` field, all 18,331 non-empty docs"),
    "stackoverflow": ("stackoverflow", {}, "StackOverflow titles, all 20,000"),
    "tweet_topic": ("tweet_topic", {}, "TweetTopic single-label, all 21,996 rows (5,790 unique texts)"),
    "demo": ("demo", {}, "packaged demo corpus (240 docs, 6 labels)"),
    # 36 documents of the demo corpus: the smoke tests of the benchmark scripts (seconds, not minutes)
    "demo-tiny": ("demo", {"sample": 36, "sample_seed": 0}, "packaged demo corpus, stratified sample of 36 docs"),
    # OCTIS's own preprocessed folder, used as it is (token lists only, no raw text: the LM reads the joined
    # tokens, the "drop-in OCTIS benchmark" case). The quality study's confirmation set: never used for choosing.
    "bbc_news": ("octis:octis_BBC_News", {}, "OCTIS preprocessed BBC News (2,225 docs, 5 labels, |V| 2,949; "
                 "token lists only: DSL's LM reads the joined tokens)"),
    # the quality study's second confirmation set (round 2, 2026-12-03): never used by a run before its rule
    "dbpedia_it": ("octis:octis_DBPedia_IT", {}, "OCTIS preprocessed DBPedia_IT (Italian; 4,251 docs, 5 labels, "
                   "|V| 2,047, 20.6 tokens per doc; token lists only: DSL's LM reads the joined tokens)"),
}
# The paper authors' word filter (dsl_plugin.data.tokenize_as_written: only words written in lower case, none that
# starts a sentence) over the same documents as each default sample: another vocabulary and BoW. Used by
# compare_tokenizers.py to test why the paper's short-text baselines are so much weaker than ours.
for _base in ("20newsgroups", "stackoverflow-4k", "tweet_topic-4k", "demo-tiny"):
    _loader, _kwargs, _desc = DATASETS[_base]
    DATASETS[f"{_base}-aswritten"] = (_loader, {**_kwargs, "tokenizer": "as_written"},
                                      f"{_desc}; vocabulary/BoW with the paper authors' word filter "
                                      "(lower-case-as-written words, no sentence-initial word)")
# The same samples as OCTIS-style folders that hold token lists only (DSL's LM then reads the joined tokens, as in a
# drop-in OCTIS benchmark on a preprocessed data set): the quality study's token-list levers (20newsgroups-tokens: the
# long-document case, added 2026-12-04 for a next round; not used by any rule yet).
for _base in ("20newsgroups", "stackoverflow-4k", "tweet_topic-4k"):
    _loader, _kwargs, _desc = DATASETS[_base]
    DATASETS[f"{_base}-tokens"] = (_loader, {**_kwargs, "raw": "tokens"},
                                   f"{_desc}; token lists only (the LM reads the joined tokens)")
# Short token lists of another corpus (added 2026-12-05 for round 16 of the quality study, as the confirmation set of a
# rule for short token lists: never used for choosing): the 20 Newsgroups sample's token lists cut to their first
# SHORT_TOKENS words, an OCTIS-style folder of token lists only.
SHORT_TOKENS = 16
DATASETS["20newsgroups-short-tokens"] = (
    "20newsgroups", {**DATASETS["20newsgroups"][1], "raw": "tokens", "max_tokens": SHORT_TOKENS},
    f"{DATASETS['20newsgroups'][2]}; token lists only, each cut to its first {SHORT_TOKENS} words (the vocabulary: "
    "the words left)")
# A labelled short-text corpus no earlier run used (added 2026-12-05 as the confirmation set of the quality study's
# round 17): WordNet's noun definitions labelled by semantic field, as an OCTIS-style folder of token lists only.
DATASETS["wordnet-nouns-4k-tokens"] = (
    "wordnet_nouns", {"sample": 4000, "sample_seed": 0, "raw": "tokens"},
    "WordNet 3.0 noun definitions (Debian wordnet-base), fixed stratified sample of 4,000 of its 82,099 noun synsets "
    "with a definition (seed 0), labelled by lexicographer file (26 semantic fields); token lists only (the LM reads "
    "the joined tokens)")
# Another 4,000 of the 20 Newsgroups documents, none of them in the default sample (added 2026-12-05 as the
# confirmation set of the quality study's round 20, a rule for long raw text: no run used these documents)
DATASETS["20newsgroups-b"] = (
    "20newsgroups", {"sample": 4000, "sample_seed": 1, "disjoint_from": (4000, 0)},
    "20 Newsgroups `text` field, fixed stratified sample of 4,000 non-empty docs (seed 1) drawn from the documents "
    "outside the default sample (3 texts that occur more than once in the corpus are in both)")
# The same 4,000 WordNet definitions as raw text (added 2026-12-05 as the confirmation set of the quality study's round
# 18, a rule for short raw text: no run had used them as raw text; their token lists were round 17's confirmation set)
DATASETS["wordnet-nouns-4k"] = (
    "wordnet_nouns", {"sample": 4000, "sample_seed": 0},
    "WordNet 3.0 noun definitions (Debian wordnet-base), the same fixed stratified sample of 4,000 as "
    "`wordnet-nouns-4k-tokens` (seed 0), labelled by lexicographer file (26 semantic fields); raw definitions")
# Long raw text of another source (added 2026-12-05 as a second confirmation set of the quality study's round 20, a
# rule for long raw text chosen and confirmed on 20 Newsgroups samples; no run had used these documents)
DATASETS["debian-4k"] = (
    "debian_descriptions", {"sample": 4000, "sample_seed": 0},
    "Debian 12.15 package descriptions (apt's English lists of bookworm main, one package per source package, long "
    f"part of at least {DEBIAN_MIN_WORDS} words), fixed stratified sample of 4,000 of the 10,530 (seed 0), labelled "
    f"by section ({len(DEBIAN_SECTIONS)}: a field or a language); raw text")
# The same 4,000 Debian descriptions as an OCTIS-style folder of token lists only (added 2026-12-05, fourteenth session):
# a third corpus of long token lists next to the 20 Newsgroups copy and BBC News, for levers aimed at that kind
DATASETS["debian-4k-tokens"] = (
    "debian_descriptions", {"sample": 4000, "sample_seed": 0, "raw": "tokens"},
    DATASETS["debian-4k"][2].removesuffix("; raw text") + "; token lists only (the LM reads the joined tokens)")
VOCABULARY_SIZE = 2000


def build(name: str) -> PreparedCorpus:
    """The corpus of a benchmark data set (deterministic), without writing anything."""
    loader, kwargs, _ = DATASETS[name]
    if loader.startswith("octis:"):
        return _octis_folder(loader.split(":", 1)[1])[0]
    kwargs = dict(kwargs)
    tokenizer = kwargs.pop("tokenizer", "default")
    tokens_only = kwargs.pop("raw", None) == "tokens"
    max_tokens = kwargs.pop("max_tokens", None)
    texts, labels = load_texts(loader, **kwargs)
    corpus = prepare_corpus(texts, labels, vocabulary_size=VOCABULARY_SIZE, tokenizer=tokenizer)
    if max_tokens is not None:  # (a document without a vocabulary word stays empty, as in the full copy)
        tokens = [list(t[:max_tokens]) for t in corpus.tokens]
        used = {w for t in tokens for w in t}
        corpus = dataclasses.replace(corpus, tokens=tokens, vocabulary=[w for w in corpus.vocabulary if w in used])
    if tokens_only:
        corpus = dataclasses.replace(corpus, raw_texts=[" ".join(t) for t in corpus.tokens])
    return corpus


def prepare(name: str) -> tuple[PreparedCorpus, Path]:
    """Build (deterministically) the corpus of a benchmark data set and its OCTIS folder (``work_dir()/name``,
    written once; an OCTIS data set of the shared data is used where it is)."""
    loader = DATASETS[name][0]
    if loader.startswith("octis:"):
        return _octis_folder(loader.split(":", 1)[1])
    corpus = build(name)
    folder = work_dir() / name
    if not (folder / "raw_documents.jsonl").exists():
        write_octis_folder(corpus, folder)
    return corpus, folder


def octis_dataset(name: str):
    """The OCTIS dataset of a benchmark data set (raw text kept: :func:`dsl_plugin.octis_io.load_dataset`)."""
    from dsl_plugin.octis_io import load_dataset

    return load_dataset(prepare(name)[1])


def _octis_folder(folder_name: str) -> tuple[PreparedCorpus, Path]:
    """A shared OCTIS folder as it is: raw text = the joined tokens (what DSL reads from such a folder)."""
    import numpy as np

    from dsl_plugin.octis_io import load_dataset

    folder = shared_data_dir() / folder_name
    ds = load_dataset(folder)
    corpus = ds.get_corpus()
    n = len(corpus)
    corpus_obj = PreparedCorpus(raw_texts=ds.get_raw_corpus(), tokens=corpus, vocabulary=list(ds.get_vocabulary()),
                                labels=ds.get_labels(), partitions=["train"] * n, order=np.arange(n))
    return corpus_obj, folder


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", choices=sorted(DATASETS))
    ap.add_argument("--out", default=None, help="write the OCTIS folder here (default: the benchmarks' work folder)")
    args = ap.parse_args(argv)
    if args.out is None:
        corpus, folder = prepare(args.dataset)
    else:
        corpus = build(args.dataset)
        folder = write_octis_folder(corpus, args.out)
    print(f"{folder}: {len(corpus)} documents, |V|={len(corpus.vocabulary)}, {corpus.n_empty} empty after "
          "preprocessing")


if __name__ == "__main__":
    main()
