"""How often a document's nearest neighbours carry its label: the neighbours ``target_neighbours`` pools (issue 14).

    python -m benchmarks.neighbour_agreement                    # -> results/neighbour_agreement.md
    python -m benchmarks.neighbour_agreement --datasets demo-tiny --k 3

A diagnostic that reads the labels (DSL never does): for each data set, the share of each document's k nearest
training documents (:func:`dsl_plugin.student.neighbour_index`, the search ``target_neighbours`` uses) that carry the
document's label, by the packaged MiniLM's embeddings (what DSL pools by) and, for comparison, by tf-idf bags of
words; beside it the chance level (sum of squared label shares). Quality study rounds 13 and 14 asked why pooled
targets helped the tweets' and 20 Newsgroups' token copies but hurt DBPedia_IT; this is one candidate explanation
(neighbours of another label), measured. Beside it, what decides whether ``DSL()`` pools a short token-list corpus
since 0.11 (round 17): the share of its word occurrences the packaged MiniLM reads as words
(:func:`dsl_plugin.embeddings.whole_word_share`; pooled at ``ENCODER_MIN_WORD_SHARE`` or more).
"""

from __future__ import annotations

import argparse
import time

from . import results_dir, setup_environment, work_dir

OUT = "neighbour_agreement.md"
DATASETS = ("tweet_topic-4k-tokens", "stackoverflow-4k-tokens", "dbpedia_it", "20newsgroups-tokens", "bbc_news",
            "20newsgroups-short-tokens", "wordnet-nouns-4k-tokens")


def label_agreement(vectors, labels, k: int) -> float:
    """The share of each row's ``k`` nearest other rows by cosine (:func:`dsl_plugin.student.neighbour_index`, the
    search ``target_neighbours`` uses) that carry its label (``labels``: an array, one per row)."""
    import numpy as np

    from dsl_plugin.student import neighbour_index

    index = neighbour_index(np.asarray(vectors, dtype=np.float32), k)
    return float(np.mean(labels[index[:, 1:]] == labels[:, None]))


def agreement(dataset_name: str, k: int) -> dict:
    """The neighbours' label agreement on one benchmark data set (MiniLM and tf-idf) and the chance level."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfTransformer

    from dsl_plugin.data import bag_of_words
    from dsl_plugin.embeddings import PackagedMiniLM, whole_word_share

    from .bench_data import octis_dataset

    ds = octis_dataset(dataset_name)
    labels = np.asarray(ds.get_labels())
    encoder = PackagedMiniLM(cache_dir=work_dir() / dataset_name / "embeddings")
    minilm = encoder.encode(ds.get_raw_corpus())
    vocabulary = list(ds.get_vocabulary())
    bow = bag_of_words(ds.get_corpus(), vocabulary)
    tfidf = TfidfTransformer().fit_transform(bow)
    out = {"dataset": dataset_name, "k": k, "documents": len(labels),
           "word_share": whole_word_share(encoder, vocabulary, np.asarray(bow.sum(axis=0)).ravel())}
    for name, x in (("minilm", minilm), ("tfidf", tfidf.toarray())):
        out[name] = label_agreement(x, labels, k)
    _, counts = np.unique(labels, return_counts=True)
    out["chance"] = float(np.sum((counts / counts.sum()) ** 2))
    return out


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    from .machine import machine_info

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--k", type=int, default=15)
    args = ap.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M")
    rows = [agreement(ds, args.k) for ds in args.datasets]
    command = f"python -m benchmarks.neighbour_agreement --datasets {' '.join(args.datasets)} --k {args.k}"
    lines = [f"# Neighbours' label agreement (k = {args.k})", "",
             f"`{command}` ({started}; {machine_info()}). Share of each document's {args.k} nearest training "
             "documents that carry its label (reads the labels: a diagnostic, not something DSL does). See the "
             "module's docstring.", "",
             "| data set | documents | MiniLM (what DSL pools by) | tf-idf | chance | MiniLM's whole-word share |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['documents']:,} | {r['minilm']:.3f} | {r['tfidf']:.3f} | {r['chance']:.3f} "
              f"| {r['word_share']:.3f} |" for r in rows]
    results_dir().mkdir(parents=True, exist_ok=True)
    (results_dir() / OUT).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
