"""Does the paper authors' word filter explain their weak short-text baselines?

    python -m benchmarks.teacher_pass --lm gemma3-270m --lm smollm2-135m \\
        --datasets stackoverflow-4k-aswritten tweet_topic-4k-aswritten
    python -m benchmarks.teacher_pass --lm gemma3-270m --datasets 20newsgroups-aswritten
    python -m benchmarks.teacher_pass --lm qwen2.5-coder-0.5b --datasets stackoverflow-4k-aswritten  # opt-in LM
    python -m benchmarks.run --datasets stackoverflow-4k-aswritten tweet_topic-4k-aswritten --ks 25 \\
        --models LDA ProdLDA CombinedTM ZeroshotTM BERTopic FASTopic DSL DSL-centred DSL-smollm2 DSL-qwen0.5b
    python -m benchmarks.run --datasets 20newsgroups-aswritten --ks 25 --models LDA ProdLDA CombinedTM ZeroshotTM DSL
    python -m benchmarks.compare_tokenizers          # -> results/tokenizer_effect.md + .png

(DSL-qwen0.5b has a teacher pass only on StackOverflow; measured pass times are in results/teacher_runs.jsonl.)

The authors' preprocessing (spaCy) keeps a word only if it is written in lower case and does not start a
sentence (``dsl_plugin.data.tokenize_as_written``); ours lower-cases everything (``tokenize``). The
``*-aswritten`` data sets hold the same documents as the default 4k samples with the authors' filter. This
script puts both side by side (K=25, every seed run on both) with the corpus statistics that differ, next to
the paper's numbers (mean over K = 25-100, Tables 1-2, copied from the paper, not measured here).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dsl_plugin.compare import mean_sd

from . import results_dir, setup_environment
from .bench_data import DATASETS, prepare
from .run import load_runs

PAIRS = [("stackoverflow-4k", "stackoverflow-4k-aswritten"), ("tweet_topic-4k", "tweet_topic-4k-aswritten"),
         ("20newsgroups", "20newsgroups-aswritten")]
K = 25
# paper, Table 1 (purity) and Table 2 (P@10), mean over K in {25, 50, 75, 100} x 5 seeds; DSL = ERNIE-4.5-0.3B
PAPER = {
    "stackoverflow-4k": {"LDA": (.174, .109), "ProdLDA": (.265, .231), "CombinedTM": (.306, .251),
                         "ZeroshotTM": (.307, .268), "ETM": (.151, .125), "BERTopic": (.202, .296),
                         "FASTopic": (.171, .178), "DSL": (.737, .580)},
    "tweet_topic-4k": {"LDA": (.441, .500), "ProdLDA": (.533, .619), "CombinedTM": (.588, .637),
                       "ZeroshotTM": (.573, .647), "ETM": (.552, .637), "BERTopic": (.562, .519),
                       "FASTopic": (.557, .667), "DSL": (.781, .777)},
    "20newsgroups": {"LDA": (.301, .231), "ProdLDA": (.356, .334), "CombinedTM": (.391, .357),
                     "ZeroshotTM": (.397, .373), "ETM": (.360, .305), "BERTopic": (.352, .402),
                     "FASTopic": (.416, .406), "DSL": (.520, .458)},
}


def corpus_stats(name: str) -> dict:
    """Mean vocabulary words per document, empty documents, and how often a document's BoW names its label."""
    corpus, _ = prepare(name)
    pieces = {lab: {p for p in lab.replace("&", " ").replace("_", " ").replace("-", " ").replace(".", " ").split()
                    if len(p) > 2} for lab in set(corpus.labels)}
    names_label = np.mean([bool(pieces[lab] & set(toks)) for toks, lab in zip(corpus.tokens, corpus.labels)])
    return {"tokens": np.mean([len(t) for t in corpus.tokens]), "empty": corpus.n_empty,
            "names_label": names_label, "n_labels": len(pieces),
            "vocab_label_words": sum(bool(p & set(corpus.vocabulary)) for p in pieces.values())}


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    written_sets = sorted(d for d in DATASETS if d.endswith("-aswritten"))
    ap.add_argument("--pairs", nargs="+", default=[w for _, w in PAIRS], choices=written_sets, metavar="SET",
                    help=f"-aswritten data sets, each put next to its base set ({', '.join(written_sets)}; "
                         "default: those of the three default sets)")
    ap.add_argument("--k", type=int, default=K, help=f"number of topics of the runs compared (default {K})")
    args = ap.parse_args(argv)
    k = args.k
    pairs = [(w.removesuffix("-aswritten"), w) for w in args.pairs]
    runs = [r for r in load_runs() if r["k"] == k and "metrics" in r]
    out = [f"# Our word filter vs the paper authors' (K={k})", "",
           "Same documents (the default 4k samples), two vocabularies/BoW: **ours** lower-cases every word "
           "(`dsl_plugin.data.tokenize`); **as written** keeps only words written in lower case that do not start a "
           "sentence, as the authors' spaCy preprocessing does (`tokenize_as_written`, an approximation without "
           "spaCy). Every model sees the same documents (documents left empty are kept; the authors drop them for "
           "the baselines). Cells: purity / P@10, mean ± std over the seeds run on *both* vocabularies (n). "
           "Paper: mean over K 25-100 and 5 seeds (Tables 1-2; DSL = ERNIE-4.5-0.3B), for reference only.",
           "", "Rebuild: `python -m benchmarks.compare_tokenizers` (from `runs.jsonl`).", ""]
    plot_rows: dict[str, list[tuple]] = {}
    for base, written in pairs:
        if not any(r["dataset"] == written for r in runs):
            continue
        st = {n: corpus_stats(n) for n in (base, written)}
        out += [f"## {DATASETS[base][2]}", "",
                "| corpus | words/doc | empty docs | docs whose BoW names their label | labels named in vocabulary |",
                "|---|---|---|---|---|"]
        for n, label in ((base, "ours"), (written, "as written")):
            s = st[n]
            out.append(f"| {label} | {s['tokens']:.2f} | {s['empty']} | {s['names_label']:.1%} | "
                       f"{s['vocab_label_words']} of {s['n_labels']} |")
        out += ["", "| model | ours | as written | change in purity | paper |", "|---|---|---|---|---|"]
        models = list(dict.fromkeys(r["model"] for r in runs if r["dataset"] == written))
        for m in models:
            by = {n: {r["seed"]: r["metrics"] for r in runs if r["dataset"] == n and r["model"] == m}
                  for n in (base, written)}
            seeds = sorted(set(by[base]) & set(by[written]))
            if not seeds:
                continue
            cells = []
            for n in (base, written):
                cells.append(f"{mean_sd([by[n][s]['purity'] for s in seeds])} / "
                             f"{np.mean([by[n][s]['p10'] for s in seeds]):.3f}")
            delta = np.mean([by[written][s]["purity"] - by[base][s]["purity"] for s in seeds])
            plot_rows.setdefault(base, []).append(
                (m, *(float(np.mean([by[n][s]["purity"] for s in seeds])) for n in (base, written)),
                 PAPER.get(base, {}).get(m, (None,))[0]))
            paper = PAPER.get(base, {}).get(m)
            out.append(f"| {m} (n={len(seeds)}) | {cells[0]} | {cells[1]} | {delta:+.3f} | "
                       f"{f'{paper[0]:.3f} / {paper[1]:.3f}' if paper else ''} |")
        out.append("")
    out += ["![purity with each word filter](tokenizer_effect.png)", ""]
    path = results_dir() / "tokenizer_effect.md"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    if plot_rows:
        _plot(plot_rows, results_dir() / "tokenizer_effect.png", k)
    print(f"wrote {path}")


def _plot(rows: dict[str, list[tuple]], path: Path, k: int) -> None:
    """Purity per model with our filter vs the authors', one panel per data set; x = the paper's value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(4.6 * len(rows), 0.45 * max(map(len, rows.values())) + 1.8),
                             squeeze=False)
    for ax, (base, rs) in zip(axes[0], rows.items()):
        y = np.arange(len(rs))
        ax.barh(y - 0.2, [r[1] for r in rs], height=0.4, color="tab:blue", label="our filter (lower-cased)")
        ax.barh(y + 0.2, [r[2] for r in rs], height=0.4, color="tab:orange", label="authors' filter (as written)")
        paper = [(i, r[3]) for i, r in enumerate(rs) if r[3] is not None]
        ax.scatter([p for _, p in paper], [i for i, _ in paper], marker="x", color="black", zorder=3,
                   label="paper (mean over K 25-100; DSL = ERNIE-0.3B)")
        ax.set_yticks(y, [r[0] for r in rs])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(f"{base}: purity, K={k}")
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
