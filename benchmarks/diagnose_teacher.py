"""How good are the teacher's outputs on their own? (cached teacher pass needed)

    python -m benchmarks.diagnose_teacher --dataset stackoverflow --lm gemma3-270m

Retrieval P@10 (same label among the 10 nearest) on a fixed 4,000-document sample, using directly:
the soft labels (KL retrieval, as for topic distributions), the soft labels with each word's corpus-mean
logit removed, the soft labels with multi-token words masked, smoothed BoW, and the centred hidden states
(cosine). Also lists the top words of a few documents. Writes results/teacher_diagnosis_<dataset>_<lm>.md.
"""

from __future__ import annotations

import argparse

from . import results_dir, setup_environment
from .bench_data import DATASETS, prepare


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    import numpy as np

    from dsl_plugin import metrics as M
    from dsl_plugin.data import bag_of_words
    from dsl_plugin.teacher import SoftLabelTeacher, single_token_words, softmax_with_temperature

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="stackoverflow", choices=sorted(DATASETS))
    ap.add_argument("--lm", default="gemma3-270m")
    ap.add_argument("--sample", type=int, default=4000)
    args = ap.parse_args(argv)
    corpus, _ = prepare(args.dataset)
    teacher = SoftLabelTeacher(model=args.lm, show_progress=True)
    out = teacher.compute(corpus.raw_texts, corpus.vocabulary)
    idx = np.sort(np.random.default_rng(0).choice(len(corpus), min(args.sample, len(corpus)), replace=False))
    labels = [corpus.labels[i] for i in idx]
    p10 = lambda x: M.retrieval_precision_at_k(x, labels, ks=(10,))[10]  # noqa: E731
    multi = ~single_token_words(teacher.tokenizer, corpus.vocabulary)
    centred = out.logits - out.logits.mean(0, keepdims=True)
    masked = out.logits.copy()
    masked[:, multi] = -np.inf
    bow = bag_of_words([corpus.tokens[i] for i in idx], corpus.vocabulary).toarray() + np.float32(1e-3)
    h = out.hidden[idx] - out.hidden[idx].mean(0)
    h /= np.linalg.norm(h, axis=1, keepdims=True)
    lab = np.asarray(labels)
    hits = []
    for s in range(0, len(h), 1000):
        sim = h[s:s + 1000] @ h.T
        sim[np.arange(len(sim)), np.arange(s, s + len(sim))] = -np.inf
        top = np.argpartition(-sim, 10, axis=1)[:, :10]
        hits.append((lab[top] == lab[s:s + len(sim), None]).mean(1))
    rows = [("soft labels, tau=1", p10(softmax_with_temperature(out.logits[idx], 1.0))),
            ("soft labels, tau=3", p10(softmax_with_temperature(out.logits[idx], 3.0))),
            ("centred logits, tau=1", p10(softmax_with_temperature(centred[idx], 1.0))),
            ("centred logits, tau=3", p10(softmax_with_temperature(centred[idx], 3.0))),
            ("multi-token words masked, tau=3", p10(softmax_with_temperature(masked[idx], 3.0))),
            ("BoW (add-0.001 smoothed)", p10(bow / bow.sum(1, keepdims=True))),
            ("hidden states, centred cosine", float(np.concatenate(hits).mean()))]
    lines = [f"# Teacher diagnosis: {args.dataset}, {args.lm}", "",
             f"`python -m benchmarks.diagnose_teacher --dataset {args.dataset} --lm {args.lm}`; "
             f"P@10 on a fixed sample of {len(idx)} documents (seed 0).", "",
             (f"{int(multi.sum())} of {len(multi)} vocabulary words are more than one LM token; the teacher scores "
              "them by their first sub-token, e.g. " + ", ".join([w for w, m in zip(corpus.vocabulary, multi) if m][:12])),
             "", "| representation | P@10 |", "|---|---|"]
    lines += [f"| {n} | {v:.3f} |" for n, v in rows]
    lines += ["", "Top soft-label words (tau=1) of the first documents, raw vs centred logits:", ""]
    for i in range(8):
        raw_top = [corpus.vocabulary[j] for j in np.argsort(-out.logits[i])[:6]]
        cen_top = [corpus.vocabulary[j] for j in np.argsort(-centred[i])[:6]]
        lines.append(f"- [{corpus.labels[i]}] {corpus.raw_texts[i][:70]!r}: raw {raw_top}; centred {cen_top}")
    path = results_dir() / f"teacher_diagnosis_{args.dataset}_{args.lm}.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
