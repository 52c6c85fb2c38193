"""Command line: ``dsl-topic demo | prepare | fit | compare | teacher``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time


#: command-line option -> DSL setting, for the options `demo`, `fit` and `teacher` share (those a command lacks
#: are skipped)
_DSL_OPTIONS = {"lm": "language_model", "temperature": "temperature", "calibration": "calibration",
                "word_scoring": "word_scoring", "preset": "preset", "max_doc_tokens": "max_doc_tokens",
                "diversity_weight": "diversity_weight", "epochs": "num_epochs"}


def dsl_options(args: argparse.Namespace) -> dict:
    """The DSL settings given on the command line; options not given keep DSL's own defaults."""
    values = {setting: getattr(args, option, None) for option, setting in _DSL_OPTIONS.items()}
    return {k: v for k, v in values.items() if v is not None}


def _model(args: argparse.Namespace):
    """The DSL of a ``demo`` / ``fit`` command; settings and the ``--save`` path are checked before any work.

    Options not given on the command line keep DSL's own defaults (one source of truth).
    """
    from .model import DSL

    model = DSL(num_topics=args.num_topics, seed=args.seed, **dsl_options(args))
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
    print(f"fitted in {time.time() - t0:.0f} s (teacher + training); {model.describe()}\n")
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
    print(f"DSL: {model.describe()}")
    for k, words in enumerate(out["topics"]):
        print(f"topic {k:2d}: {' '.join(words)}")
    if args.save:
        print(f"saved to {model.save(args.save)}")
    if args.plots:
        from .plots import save_model_plots

        paths = save_model_plots(out, ds.get_vocabulary(), args.plots, f"DSL-K{args.num_topics}",
                                 labels=ds.get_labels())
        print("pictures: " + ", ".join(str(p) for p in paths.values()))


def _parse_params(items: list[str]) -> dict[str, dict]:
    """``MODEL.NAME=VALUE`` strings -> {model: {name: value}} (VALUE read as JSON when it parses, else text)."""
    params: dict[str, dict] = {}
    for item in items:
        key, sep, value = item.partition("=")
        model, dot, name = key.rpartition(".")
        if not sep or not dot or not model or not name:
            raise SystemExit(f"dsl-topic compare: --param {item!r}: expected MODEL.NAME=VALUE, e.g. "
                             "DSL.num_epochs=50 or ProdLDA.num_epochs=50")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        params.setdefault(model, {})[name] = parsed
    return params


def _compare(args: argparse.Namespace) -> None:
    from .compare import compare

    params = _parse_params(args.param or [])
    if "DSL" in args.models and args.lm:
        params.setdefault("DSL", {}).setdefault("language_model", args.lm)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        result = compare(args.data, models=args.models, ks=args.ks, seeds=args.seeds, out_dir=args.out,
                         params=params, top_words=args.top_words, vocabulary_size=args.vocabulary_size,
                         text_column=args.text_column, label_column=args.label_column, sample=args.sample,
                         plots=not args.no_plots, progress=not args.quiet)
    except (FileNotFoundError, ValueError, TypeError, ImportError) as err:
        raise SystemExit(f"dsl-topic compare: {err}") from err
    md = result.markdown
    start = md.find("## All runs")
    end = md.find("\n## ", start + 1)
    print(md[start:end if end > 0 else None].strip())
    print(f"\n{len(result.runs)} runs" + (f", {len(result.failed)} FAILED (see the report)" if result.failed else "")
          + "; written: " + ", ".join(str(p) for p in result.files.values()))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dsl-topic`` command."""
    from .lm import ModelNotAvailableError

    ap = argparse.ArgumentParser(prog="dsl-topic", description="DSL topic modeling")
    ap.add_argument("-v", "--verbose", action="store_true", help="log what the teacher and cache do")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="fit DSL on the packaged demo corpus, print topics and purity")
    d.add_argument("--num-topics", type=int, default=6)
    d.add_argument("--vocabulary-size", type=int, default=1000)
    d.add_argument("--save", default=None, help="folder to save the fitted model to")
    p = sub.add_parser("prepare", help="write a named data set as an OCTIS folder with raw text")
    p.add_argument("dataset", help="demo (the packaged corpus). The paper's data sets: `python -m "
                                   "benchmarks.bench_data NAME --out DIR` from the repository")
    p.add_argument("out")
    p.add_argument("--vocabulary-size", type=int, default=2000)
    p.add_argument("--test-size", type=float, default=0.0)
    p.add_argument("--tokenizer", choices=["default", "as_written"], default="default",
                   help="as_written: the paper authors' word filter (drops capitalised and sentence-initial words)")
    f = sub.add_parser("fit", help="fit DSL on an OCTIS folder written by `prepare`")
    f.add_argument("folder")
    f.add_argument("--num-topics", type=int, default=20)
    f.add_argument("--save", default=None)
    f.add_argument("--plots", default=None, metavar="DIR",
                   help="write topic word bar charts and a document-topic heatmap with topic sizes (PNG) to DIR")
    c = sub.add_parser("compare", help="fit DSL and baselines on any corpus; side-by-side tables, plots, runs.jsonl",
                       description="Fit every model at every K and seed on DATA and write comparison.md / .csv, "
                                   "plots/ and runs.jsonl to --out. Resumable: a rerun skips finished runs.")
    c.add_argument("data", metavar="DATA",
                   help="an OCTIS folder, a .jsonl ({'text':..., 'label':...} per line), .tsv/.csv (a 'text' column "
                        "or the first one, optional 'label') or .txt (one document per line) file, or the packaged "
                        "demo corpus (demo)")
    c.add_argument("--models", nargs="+", default=None,
                   help="DSL and any of LDA ProdLDA CombinedTM ZeroshotTM ETM BERTopic BERTopic-DSL FASTopic ECRTM "
                        "(default: DSL ZeroshotTM CombinedTM ProdLDA FASTopic BERTopic)")
    c.add_argument("--ks", nargs="+", type=int, default=[20], help="numbers of topics (default 20)")
    c.add_argument("--seeds", type=int, default=3, help="number of seeds: 3 runs seeds 0, 1, 2 (default 3)")
    c.add_argument("--out", default="dsl_compare", help="output folder; reuse it to resume (default dsl_compare)")
    c.add_argument("--lm", default=None, help="DSL's language model (default: the package default)")
    c.add_argument("--param", action="append", metavar="MODEL.NAME=VALUE",
                   help="a model setting, repeatable: DSL.num_epochs=50, DSL.calibration=corpus, "
                        "ProdLDA.num_epochs=50, LDA.passes=5 ...")
    c.add_argument("--top-words", type=int, default=10, help="words per topic, also for coherence/diversity")
    c.add_argument("--vocabulary-size", type=int, default=2000, help="|V| for text input (default 2000)")
    c.add_argument("--text-column", default=None, help="text column/key (default: text, else the first column)")
    c.add_argument("--label-column", default=None, help="label column/key (default: label, when present)")
    c.add_argument("--sample", type=int, default=None, help="use a fixed sample of N documents of text input")
    c.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's; 1 on a busy CPU)")
    c.add_argument("--no-plots", action="store_true", help="no pictures")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    from .teacher import _cli as teacher_cli

    teacher_cli.add_parser(sub)
    for s in (d, f):
        # None = the DSL default (one source of truth: dsl_plugin.DSL)
        s.add_argument("--lm", default=None, help="packaged alias, local path or Hugging Face id; several joined "
                                                   "by '+' form an ensemble (default: DSL's)")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--preset", default=None, metavar="NAME",
                       help="paper: the method as published (raw soft labels at tau 3, sampled theta); the other "
                            "options given win over it (default: DSL's defaults)")
        s.add_argument("--epochs", type=int, default=None,
                       help="training epochs (default: DSL's 'auto': 200 for ProdLDA on long token lists, else 100; "
                            "100 with --preset paper)")
        s.add_argument("--max-doc-tokens", type=int, default=None,
                       help="LM tokens read per document (default: DSL's 'auto': 256 for long documents, else 128)")
        s.add_argument("--temperature", type=float, default=None, help="soft-label tau (default: DSL's)")
        s.add_argument("--calibration", choices=["none", "corpus", "contextual"], default=None,
                       help="subtract each word's corpus-mean logit or its logit for a content-free document "
                            "(see benchmarks/results/quality_study.md; default: DSL's)")
        s.add_argument("--word-scoring", choices=["first_token", "full_word"], default=None,
                       help="score a multi-token word by its first sub-token (paper) or by all of its tokens "
                            "(slower teacher pass)")
        s.add_argument("--diversity-weight", type=float, default=None,
                       help="weight of the penalty on duplicate topics; 0 turns it off (default: the backbone's, "
                            "1e4 on ProdLDA; 0 with --preset paper)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if os.environ.get("HF_HUB_OFFLINE") is None:
        print("note: HF_HUB_OFFLINE is not set; packaged LMs load offline anyway", file=sys.stderr)
    if args.cmd == "compare" and args.models is None:
        from .compare import DEFAULT_MODELS

        args.models = list(DEFAULT_MODELS)
    try:
        {"demo": _demo, "prepare": _prepare, "fit": _fit, "compare": _compare, "teacher": teacher_cli.run}[args.cmd](args)
    except (ValueError, OSError, ModelNotAvailableError) as e:  # bad input: a message, not a traceback
        if args.verbose:
            raise
        ap.exit(2, f"dsl-topic: error: {e}\n")


if __name__ == "__main__":
    main()
