"""Make the pictures of docs/bertopic.md (docs/images/bertopic_*.png) and print the numbers quoted there.

    HF_HUB_OFFLINE=1 PYTHONPATH=. python docs/make_bertopic_figures.py   # from the repository root

A DSL (default packaged LM, 6 topics) is fitted on 210 of the 240 documents of the packaged demo corpus
and put into BERTopic with DSLBackend.from_dsl + DSLCluster + DSLRepresentation; the other 30 documents
are "new". Plain matplotlib (BERTopic's plotly figures need kaleido for PNG files).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from bertopic import BERTopic  # noqa: E402
from bertopic.dimensionality import BaseDimensionalityReduction  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402

from dsl_plugin import DSL  # noqa: E402
from dsl_plugin.bertopic import DSLBackend, DSLCluster, DSLRepresentation  # noqa: E402
from dsl_plugin.data import load_demo_corpus  # noqa: E402
from dsl_plugin.metrics import purity  # noqa: E402

OUT = Path(__file__).resolve().parent / "images"


def main() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(exist_ok=True)
    t0 = time.time()
    texts, labels = load_demo_corpus()
    new_idx = set(range(0, len(texts), 8))  # every 8th document is held out
    train = [t for i, t in enumerate(texts) if i not in new_idx]
    train_labels = [lb for i, lb in enumerate(labels) if i not in new_idx]
    new = [texts[i] for i in sorted(new_idx)]
    new_labels = [labels[i] for i in sorted(new_idx)]

    dsl = DSL(num_topics=6, seed=0, verbose=False).fit(train, vocabulary_size=1000)
    cluster = DSLCluster(dsl)
    topic_model = BERTopic(embedding_model=DSLBackend.from_dsl(dsl), umap_model=BaseDimensionalityReduction(),
                           hdbscan_model=cluster, vectorizer_model=CountVectorizer(stop_words="english"),
                           representation_model=DSLRepresentation())
    topics, probs = topic_model.fit_transform(train)
    new_topics, new_probs = cluster.transform(topic_model, new)
    per_class = topic_model.topics_per_class(train, classes=train_labels)
    print(f"fitted in {time.time() - t0:.0f} s; {len(set(topics))} topics; probs {probs.shape}, "
          f"new probs {new_probs.shape}")
    print(f"purity: train (argmax theta) {purity(probs, train_labels):.3f}, new documents "
          f"{purity(new_probs, new_labels):.3f}")

    reps = topic_model.get_topics()
    keys = sorted(reps)
    names = [f"{k}: {' '.join(w for w, _ in reps[k][:2])}" for k in keys]
    for k in keys:
        print(f"topic {k}: {' '.join(w for w, _ in reps[k])}")

    # 1. topic words (DSLRepresentation scores), like BERTopic's visualize_barchart
    fig, axes = plt.subplots(2, 3, figsize=(9, 5))
    for ax, k in zip(axes.ravel(), keys):
        words = reps[k][:6][::-1]
        ax.barh([w for w, _ in words], [s for _, s in words], color="tab:blue")
        ax.set_title(f"topic {k}", fontsize=10)
        ax.tick_params(labelsize=8)
    fig.suptitle("Topic words from the LM's soft labels (DSLRepresentation, demo corpus)", fontsize=11)
    fig.tight_layout()
    fig.savefig(OUT / "bertopic_dsl_topics.png", dpi=90)
    plt.close(fig)

    # 2. theta of the 30 held-out documents (DSLCluster.transform), rows grouped by their label
    order = np.argsort(new_labels, kind="stable")
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(new_probs[order], aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_yticks(range(len(order)), [new_labels[i] for i in order], fontsize=7)
    ax.set_xticks(range(len(keys)), names, rotation=30, ha="right", fontsize=8)
    ax.set_title("theta of 30 new documents in BERTopic's topics (DSLCluster.transform)", fontsize=10)
    fig.colorbar(im, ax=ax, label="theta")
    fig.tight_layout()
    fig.savefig(OUT / "bertopic_dsl_theta_new.png", dpi=90)
    plt.close(fig)

    # 3. topics_per_class: documents per (label, topic), annotated with the topic's first word in that class
    classes = sorted(set(train_labels))
    counts = np.zeros((len(classes), len(keys)))
    first = {}
    for r in per_class.itertuples():
        i, j = classes.index(r.Class), keys.index(int(r.Topic))
        counts[i, j] = r.Frequency
        first[i, j] = r.Words.split(", ")[0]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.imshow(counts, cmap="Blues", aspect="auto")
    for (i, j), word in first.items():
        ax.text(j, i, f"{int(counts[i, j])}\n{word}", ha="center", va="center", fontsize=7,
                color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xticks(range(len(keys)), names, rotation=30, ha="right", fontsize=8)
    ax.set_title("topics_per_class: documents and first word per label (DSLRepresentation per slice)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "bertopic_dsl_topics_per_class.png", dpi=90)
    plt.close(fig)
    print(per_class.to_string(index=False))
    print(f"done in {time.time() - t0:.0f} s; pictures in {OUT}")


if __name__ == "__main__":
    main()
