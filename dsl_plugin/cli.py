"""Command line: ``dsl-topic demo | prepare | fit | teacher``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time


def _model(args: argparse.Namespace):
    """The DSL of a ``demo`` / ``fit`` command; settings and the ``--save`` path are checked before any work.

    Options not given on the command line keep DSL's own defaults (one source of truth).
    """
    from .model import DSL

    given = {"language_model": args.lm, "temperature": args.temperature, "calibration": args.calibration,
             "word_scoring": args.word_scoring}
    model = DSL(num_topics=args.num_topics, num_epochs=args.epochs, seed=args.seed,
                **{k: v for k, v in given.items() if v is not None})
    if args.save:
        DSL.check_save_path(args.save)
    return model


def _demo(args: argparse.Namespace) -> None:
    from . import metrics
    from .data import load_demo_corpus

    texts, labels = load_demo_corpus()
    model = _model(args)
    print(f"demo corpus: {len(texts)} documents, {len(set(labels))} labels; language model: {model.language_model}")
    t0 = time.time()
    theta = model.fit_transform(texts, vocabulary_size=args.vocabulary_size)
    print(f"fitted in {time.time() - t0:.0f} s (teacher + training)\n")
    for k, words in enumerate(model.get_topics(10)):
        print(f"topic {k:2d}: {' '.join(words)}")
    print()
    print(f"purity                     {metrics.purity(theta, labels):.3f}")
    print(f"inverse purity             {metrics.inverse_purity(theta, labels):.3f}")
    print(f"harmonic purity 2PI/(P+I)  {metrics.harmonic_purity(theta, labels):.3f}")
    print(f"purity F-measure           {metrics.purity_f_measure(theta, labels):.3f}")
    p = metrics.retrieval_precision_at_k(theta, labels, ks=(5, 10))
    print(f"retrieval P@5 / P@10       {p[5]:.3f} / {p[10]:.3f}")
    if args.save:
        print(f"saved to {model.save(args.save)}")


def _prepare(args: argparse.Namespace) -> None:
    from .data import prepare_dataset

    c = prepare_dataset(args.dataset, args.out, vocabulary_size=args.vocabulary_size, test_size=args.test_size,
                        tokenizer=args.tokenizer)
    print(f"wrote {args.out}: {len(c)} documents, |V|={len(c.vocabulary)}, {c.n_empty} empty after preprocessing")


def _fit(args: argparse.Namespace) -> None:
    from .octis_io import load_dataset

    model = _model(args)
    ds = load_dataset(args.folder)
    out = model.train_model(ds, top_words=10)
    for k, words in enumerate(out["topics"]):
        print(f"topic {k:2d}: {' '.join(words)}")
    if args.save:
        print(f"saved to {model.save(args.save)}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dsl-topic`` command."""
    from .lm import ModelNotAvailableError

    ap = argparse.ArgumentParser(prog="dsl-topic", description="DSL topic modeling")
    ap.add_argument("-v", "--verbose", action="store_true", help="log what the teacher and cache do")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="fit DSL on the packaged demo corpus, print topics and purity")
    d.add_argument("--num-topics", type=int, default=6)
    d.add_argument("--vocabulary-size", type=int, default=1000)
    d.add_argument("--epochs", type=int, default=100)
    d.add_argument("--save", default=None, help="folder to save the fitted model to")
    p = sub.add_parser("prepare", help="write a named data set as an OCTIS folder with raw text")
    p.add_argument("dataset", help="20newsgroups | stackoverflow | tweet_topic | tweet_topic_unique | demo")
    p.add_argument("out")
    p.add_argument("--vocabulary-size", type=int, default=2000)
    p.add_argument("--test-size", type=float, default=0.0)
    p.add_argument("--tokenizer", choices=["default", "as_written"], default="default",
                   help="as_written: the paper authors' word filter (drops capitalised and sentence-initial words)")
    f = sub.add_parser("fit", help="fit DSL on an OCTIS folder written by `prepare`")
    f.add_argument("folder")
    f.add_argument("--num-topics", type=int, default=20)
    f.add_argument("--epochs", type=int, default=100)
    f.add_argument("--save", default=None)
    from .teacher import _cli as teacher_cli

    teacher_cli.add_parser(sub)
    for s in (d, f):
        # None = the DSL default (one source of truth: dsl_plugin.DSL)
        s.add_argument("--lm", default=None, help="packaged alias, local path or Hugging Face id; several joined "
                                                   "by '+' form an ensemble (default: DSL's)")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--temperature", type=float, default=None, help="soft-label tau (default: DSL's)")
        s.add_argument("--calibration", choices=["none", "corpus", "contextual"], default=None,
                       help="subtract each word's corpus-mean logit or its logit for a content-free document "
                            "(see benchmarks/results/quality_study.md; default: DSL's)")
        s.add_argument("--word-scoring", choices=["first_token", "full_word"], default=None,
                       help="score a multi-token word by its first sub-token (paper) or by all of its tokens "
                            "(slower teacher pass)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if os.environ.get("HF_HUB_OFFLINE") is None:
        print("note: HF_HUB_OFFLINE is not set; packaged LMs load offline anyway", file=sys.stderr)
    try:
        {"demo": _demo, "prepare": _prepare, "fit": _fit, "teacher": teacher_cli.run}[args.cmd](args)
    except (ValueError, OSError, ModelNotAvailableError) as e:  # bad input: a message, not a traceback
        if args.verbose:
            raise
        ap.exit(2, f"dsl-topic: error: {e}\n")


if __name__ == "__main__":
    main()
