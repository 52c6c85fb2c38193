"""Regenerate requirements/constraints.txt: the lock of dsl-plugin's own dependencies (``make lock``).

    python requirements/lock.py            # writes requirements/constraints.txt
    python requirements/lock.py --check    # exit 1 if the committed file differs from a fresh lock

What it does:

1. ``uv pip compile setup.cfg --all-extras`` for Python 3.11, with torch pinned to the version of
   scripts/install.sh step 1 (``TORCH_PIN``), and the package indexes and find-links that pip is configured
   with (``pip config list``; uv does not read pip's configuration). ``--index-strategy unsafe-best-match``
   makes uv choose among all indexes as pip does. Every extra of setup.cfg is locked, so a new extra is
   picked up by rerunning this script.
2. The packages of requirements/no-deps.txt (installed with ``pip install --no-deps``) are added as they are,
   without their own dependencies.
3. A local version label is dropped (``torch==2.13.0+cpu`` -> ``torch==2.13.0``): ``==2.13.0`` accepts the
   local CPU wheel, and the file stays usable where the wheel is called ``2.13.0``.

uv is taken from ``$UV``, from PATH, or installed (``UV_VERSION``) into a venv under the temp folder.
Only the standard library is needed to run this script.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUP_CFG = REPO / "setup.cfg"
CONSTRAINTS = REPO / "requirements" / "constraints.txt"
NO_DEPS = REPO / "requirements" / "no-deps.txt"
TORCH_PIN = "torch==2.13.0"  # scripts/install.sh step 1 and README "Install"
PYTHON_VERSION = "3.11"
UV_VERSION = "0.13.9"
NO_DEPS_MARK = "# --no-deps, requirements/no-deps.txt"

_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` -> ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> dict[str, tuple[str, str]]:
    """``{normalised name: (version, the whole line)}`` of every ``name==version`` line (comments skipped)."""
    pins = {}
    for line in text.splitlines():
        m = _REQ.match(line.strip())
        if m:
            pins[normalize(m.group(1))] = (m.group(2), line.strip())
    return pins


def pip_index_args(python: str = sys.executable) -> list[str]:
    """pip's configured index-url / extra-index-url / find-links as uv options (``pip config list``)."""
    out = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    flags = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links"}
    args: list[str] = []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        option = key.rsplit(".", 1)[-1]
        if option not in flags:
            continue
        for v in shlex.split(value.strip().strip("'\"")):
            pair = [flags[option], v]
            if not any(args[i:i + 2] == pair for i in range(0, len(args), 2)):
                args += pair
    return args


def find_uv() -> list[str]:
    if os.environ.get("UV"):
        return [os.environ["UV"]]
    if shutil.which("uv"):
        return [shutil.which("uv")]
    venv = Path(tempfile.gettempdir()) / f"dsl-plugin-lock-uv-{UV_VERSION}"
    uv = venv / "bin" / "uv"
    if not uv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"],
                       check=True)
    return [str(uv)]


def extras() -> list[str]:
    """The extras declared in setup.cfg (for the header; uv is given ``--all-extras``)."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    return sorted(cfg["options.extras_require"]) if cfg.has_section("options.extras_require") else []


def compile_lock(upgrade: bool = False) -> str:
    uv = find_uv()
    uv_version = subprocess.run(uv + ["--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    index_args = pip_index_args()
    with tempfile.TemporaryDirectory() as tmp:
        torch_pin = Path(tmp) / "torch-pin.txt"
        torch_pin.write_text(TORCH_PIN + "\n")
        out = Path(tmp) / "lock.txt"
        if CONSTRAINTS.exists() and not upgrade:
            # uv keeps the versions of an existing output file where it can. Not torch's: its pin there has
            # no local label, and a preference for plain 2.13.0 makes uv take the CUDA wheel (and its
            # nvidia-* packages) instead of 2.13.0+cpu, which is what pip installs from the find-links.
            seed = [ln for ln in CONSTRAINTS.read_text().splitlines() if not ln.startswith("torch==")]
            out.write_text("\n".join(seed) + "\n")
        cmd = uv + ["pip", "compile", "setup.cfg", "--all-extras", "--python-version", PYTHON_VERSION,
                    "--constraint", str(torch_pin), "--index-strategy", "unsafe-best-match",
                    "--no-header", "--annotation-style", "line", "--quiet", "--output-file", str(out)]
        cmd += ["--upgrade"] if upgrade else []
        subprocess.run(cmd + index_args, cwd=REPO, check=True)
        resolved = out.read_text()

    entries: dict[str, tuple[str, str]] = {}  # normalised name -> (name==version, comment)
    for name, (version, line) in read_pins(resolved).items():
        requirement, _, comment = line.partition("#")
        requirement = requirement.strip().split("+", 1)[0]  # torch==2.13.0+cpu -> torch==2.13.0
        # the torch pin is a temporary file: name it by its content so that reruns give the same text
        comment = re.sub(r"-c \S*torch-pin\.txt", f"-c <{TORCH_PIN}>", comment.strip())
        entries[name] = (requirement, f"# {comment}")
    for name, (version, line) in read_pins(NO_DEPS.read_text()).items():
        if name in entries:
            got = entries[name][0].split("==", 1)[1]
            if got != version:
                sys.exit(f"{name}: resolved {got} but requirements/no-deps.txt says {version}")
            continue
        entries[name] = (line.split("#", 1)[0].strip(), NO_DEPS_MARK)
    width = max(len(r) for r, _ in entries.values()) + 2
    lines = {n: f"{r:<{width}}{c}".rstrip() for n, (r, c) in entries.items()}

    header = [
        "# The lock of dsl-plugin's own dependencies: what `pip install -e .[<every extra>]` resolves to, plus the",
        "# --no-deps packages of requirements/no-deps.txt. Generated; do not edit. Regenerate with",
        "#     make lock    (python requirements/lock.py)",
        "# which runs, from the repository root,",
        f"#     uv pip compile setup.cfg --all-extras --python-version {PYTHON_VERSION} --constraint <{TORCH_PIN}> \\",
        "#         --index-strategy unsafe-best-match <pip's index-url, extra-index-url, find-links>",
        f"# (uv {uv_version}; extras: {', '.join(extras())}), drops local version labels (torch 2.13.0+cpu -> 2.13.0)",
        "# and appends the requirements/no-deps.txt pins, whose own dependencies are not resolved.",
    ]
    return "\n".join(header + [lines[n] for n in sorted(lines)]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file instead of writing it")
    ap.add_argument("--upgrade", action="store_true",
                    help="newest versions allowed (default: keep the versions of the current file where possible)")
    ap.add_argument("--output", type=Path, default=CONSTRAINTS)
    args = ap.parse_args(argv)
    text = compile_lock(upgrade=args.upgrade)
    if args.check:
        if args.output.read_text() != text:
            print(f"{args.output} is not what `make lock` produces now", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(read_pins(text))} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
